-- Staff roles for the admin console and the admin API (docs/admin-console.md): which Pforte
-- accounts may administer, and as what. One row per account and role.
CREATE TABLE staff_roles (
    account_id TEXT NOT NULL,
    role TEXT NOT NULL,                                -- admin | policy | helpdesk | auditor
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,                          -- the audit actor that granted it
    PRIMARY KEY (account_id, role)
);
