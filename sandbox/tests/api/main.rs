//! Wire-format tests of the sandbox: each test starts its own sandbox and speaks raw HTTP.

mod appsecret;
mod batch;
mod businesses;
mod control_plane;
mod helpers;
mod paging;
mod rate_limits;
mod reading;
mod transport;
