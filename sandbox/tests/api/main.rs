//! Wire-format tests of the sandbox: each test starts its own sandbox and speaks raw HTTP.

// Helpers are `pub` for the test modules of this one binary.
#![allow(unreachable_pub)]

mod appsecret;
mod batch;
mod business_users;
mod businesses;
mod control_plane;
mod funding;
mod helpers;
mod invoices;
mod migration;
mod paging;
mod people;
mod personas;
mod projects;
mod rate_limits;
mod reading;
mod transport;
mod webhooks;
