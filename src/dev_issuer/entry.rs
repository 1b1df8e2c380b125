//! What every counted endpoint does first: count the call, take the faults in force, wait out
//! the delay faults. Below the endpoint modules, so that none of them imports another.

use super::counters::Counters;
use super::faults::Faults;
use super::state::Inner;

/// Waits for [`Fault::Delay`](super::Fault::Delay).
pub(crate) async fn delay(faults: &Faults) {
    let delay = faults.delay();
    if !delay.is_zero() {
        rocket::tokio::time::sleep(delay).await;
    }
}

/// The start of discovery, JWKS, token and userinfo: counts the call with `counter`, takes the
/// faults in force, and waits out any [`Fault::Delay`](super::Fault::Delay).
pub(crate) async fn enter(inner: &Inner, counter: fn(&mut Counters) -> &mut u64) -> Faults {
    let faults = {
        let mut state = inner.lock();
        *counter(&mut state.counters) += 1;
        state.faults.clone()
    };
    delay(&faults).await;
    faults
}
