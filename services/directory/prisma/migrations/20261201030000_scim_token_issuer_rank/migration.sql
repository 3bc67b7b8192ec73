-- B3 with P2/L7: a SCIM token acts with at most the rank of whoever issued it, so it cannot grant,
-- revoke, change or deactivate anyone ranked above its issuer (an admin's token could otherwise
-- make its holder an owner through the owner Group). Tokens issued before this column existed get
-- their issuer's rank now (built-in ranks as in packages/contracts/src/roles.ts, custom ranks from
-- the role table); an issuer no longer known (or the operator) keeps the owner's rank, as before.
ALTER TABLE scim_token ADD COLUMN issuer_rank integer;

UPDATE scim_token t SET issuer_rank = COALESCE((
  SELECT max(COALESCE(
    CASE m.role_key
      WHEN 'owner' THEN 100 WHEN 'admin' THEN 90 WHEN 'manager' THEN 70 WHEN 'standard' THEN 50
      WHEN 'supervisor' THEN 45 WHEN 'salesperson' THEN 40 WHEN 'staff' THEN 20 WHEN 'client' THEN 10
    END,
    r.rank, 0))
  FROM membership m LEFT JOIN role r ON r.tenant_id = m.tenant_id AND r.key = m.role_key
  WHERE m.person_id = t.created_by AND m.tenant_id = t.tenant_id
), 100);

ALTER TABLE scim_token ALTER COLUMN issuer_rank SET NOT NULL;
