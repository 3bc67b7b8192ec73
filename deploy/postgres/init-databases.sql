-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d): one database per
-- service (docs/design.md: each service owns its data). Tables come from each service's migrations.
CREATE DATABASE roster_identity;
CREATE DATABASE roster_directory;
CREATE DATABASE roster_scheduling;
CREATE DATABASE roster_notifications;
