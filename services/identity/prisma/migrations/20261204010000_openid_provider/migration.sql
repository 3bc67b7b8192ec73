-- Issue 17: identity as an OpenID Provider (oidc-provider).
-- A tenant's OAuth clients: the secret is stored only as its SHA-256 (shown once at creation).
CREATE TABLE "oauth_client" (
    "id" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "redirect_uris" TEXT[] NOT NULL,
    "post_logout_redirect_uris" TEXT[] NOT NULL DEFAULT '{}',
    "public" BOOLEAN NOT NULL,
    "secret_hash" TEXT,
    "token_endpoint_auth_method" TEXT NOT NULL,
    "backchannel_logout_uri" TEXT,
    "scopes" TEXT[] NOT NULL,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "secret_rotated_at" TIMESTAMPTZ(3),
    CONSTRAINT "oauth_client_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "oauth_client_tenant_idx" ON "oauth_client" ("tenant_id", "created_at");

-- oidc-provider's state (sessions, interactions, grants, codes, tokens), one row per model
-- instance. account_id and grant_id are copied out of the payload: a deactivation finds a
-- person's sessions and revokes their grants by them (back-channel logout).
CREATE TABLE "oidc_model" (
    "kind" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "grant_id" TEXT,
    "uid" TEXT,
    "account_id" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "consumed_at" TIMESTAMPTZ(3),
    CONSTRAINT "oidc_model_pkey" PRIMARY KEY ("kind", "id")
);
CREATE INDEX "oidc_model_grant_idx" ON "oidc_model" ("grant_id") WHERE "grant_id" IS NOT NULL;
CREATE INDEX "oidc_model_uid_idx" ON "oidc_model" ("uid") WHERE "uid" IS NOT NULL;
CREATE INDEX "oidc_model_account_idx" ON "oidc_model" ("account_id", "kind") WHERE "account_id" IS NOT NULL;
CREATE INDEX "oidc_model_expires_idx" ON "oidc_model" ("expires_at");
