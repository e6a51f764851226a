//! The per-credential request rate limit (`--rate-limit`), shared by the service's state and
//! enforced by the authentication layer.

use std::num::NonZeroU32;
use std::sync::Arc;

/// Per-credential request rate limiter.
pub type RateLimiter = governor::DefaultKeyedRateLimiter<String>;

/// `per_second` requests per second per credential, in bursts of up to twice that.
pub fn rate_limiter(per_second: NonZeroU32) -> Arc<RateLimiter> {
    let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
    Arc::new(governor::RateLimiter::keyed(governor::Quota::per_second(per_second).allow_burst(burst)))
}
