//! Settings pages: a project's general settings, DSN keys, members, environments, inbound filters,
//! alert rules and grouping rules (`/settings/{org}/projects/{project}/…`), the organization's users (admins), and
//! each user's API tokens (`/settings/account/tokens/`).
//!
//! Reading a project's settings needs membership (or admin); changing them needs admin.

pub mod account;
pub mod alerts;
pub mod grouping;
pub mod project;
pub mod users;
