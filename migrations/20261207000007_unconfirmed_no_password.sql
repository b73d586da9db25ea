-- Issue 10: an account whose address nobody confirmed logs in with nothing; its password is
-- set by whoever opens the confirmation link (docs/registration.md). Unconfirmed accounts
-- are self-registered (operators create confirmed ones), so a password set at registration,
-- possibly by someone else than the owner of the address, is dropped here.
UPDATE accounts SET password_hash = NULL WHERE email_verified = 0;
