//! Remote-console tickets: the token in a console URL, good for one server for a few minutes.
//!
//! A console URL is opened by a browser or a VNC client that holds no SDK credentials, so the
//! URL itself is the credential: a random token, handed out only to a caller the API
//! authenticated, that names one server's console and expires. Tickets live in this process's
//! memory: a console is served by the node that runs the VM (its VNC socket is local), and a
//! restart ends every console anyway.

use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a console URL can be opened after it was handed out.
pub const TICKET_TTL: Duration = Duration::from_secs(600);

/// At most this many live tickets: a client asking in a loop pushes out its oldest, not memory.
const MAX_TICKETS: usize = 4096;

/// What a ticket opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub server_id: String,
    expires: Instant,
}

/// The live tickets, by token.
#[derive(Default)]
pub struct ConsoleTickets {
    live: Mutex<HashMap<String, Ticket>>,
}

impl ConsoleTickets {
    /// A new token for `server_id`'s console (32 random bytes, hex).
    pub fn issue(&self, server_id: &str) -> String {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.retain(|_, t| t.expires > now);
        if live.len() >= MAX_TICKETS {
            if let Some(oldest) = live.iter().min_by_key(|(_, t)| t.expires).map(|(k, _)| k.clone()) {
                live.remove(&oldest);
            }
        }
        let ticket = Ticket { server_id: server_id.into(), expires: now + TICKET_TTL };
        live.insert(token.clone(), ticket);
        token
    }

    /// The ticket of `token`, if it was issued and has not expired.
    pub fn check(&self, token: &str) -> Option<Ticket> {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.get(token).filter(|t| t.expires > Instant::now()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_its_server_only_until_it_expires() {
        let t = ConsoleTickets::default();
        let a = t.issue("s1");
        let b = t.issue("s2");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(t.check(&a).map(|x| x.server_id), Some("s1".into()));
        assert_eq!(t.check(&b).map(|x| x.server_id), Some("s2".into()));
        assert_eq!(t.check("nope"), None);
        t.live.lock().unwrap().get_mut(&a).unwrap().expires = Instant::now() - Duration::from_secs(1);
        assert_eq!(t.check(&a), None, "expired");
    }

    #[test]
    fn the_number_of_live_tickets_is_bounded() {
        let t = ConsoleTickets::default();
        let first = t.issue("s");
        for _ in 0..MAX_TICKETS {
            t.issue("s");
        }
        assert_eq!(t.live.lock().unwrap().len(), MAX_TICKETS);
        assert_eq!(t.check(&first), None, "the oldest made room");
    }
}
