-- okai-insight on Supabase, step 1: who created an account or a room. The creator (auth.uid() at insert time)
-- sees a room before anyone has joined it and may add participants to it; NULL on rows written by service_role.
ALTER TABLE accounts ADD COLUMN "createdBy" UUID DEFAULT auth.uid();
ALTER TABLE rooms ADD COLUMN "createdBy" UUID DEFAULT auth.uid();
CREATE INDEX idx_accounts_created_by ON accounts ("createdBy");
CREATE INDEX idx_rooms_created_by ON rooms ("createdBy");
-- A unique email or username would answer "is this email taken?" to anyone: an INSERT naming a row it cannot
-- see fails only when that row exists. Supabase Auth (auth.users) keeps sign-in emails unique; here they are
-- profile fields.
ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;
ALTER TABLE accounts DROP CONSTRAINT accounts_username_key;
