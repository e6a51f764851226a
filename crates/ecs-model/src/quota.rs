//! Per-project quotas on servers, vCPUs and memory, and the usage they are checked against.

use serde::{Deserialize, Serialize};

/// The most a project may hold. Checked when servers are inserted, in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    pub instances: i64,
    pub cores: i64,
    pub ram_mb: i64,
}

impl Default for Quotas {
    /// Generous enough for the benchmarks and the crash tests, which hold thousands of servers
    /// in one project; a deployment that wants Huawei-like limits sets its own.
    fn default() -> Self {
        Quotas { instances: 100_000, cores: 400_000, ram_mb: 1_600_000_000 }
    }
}

/// What a project uses (or a request asks for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub instances: i64,
    pub cores: i64,
    pub ram_mb: i64,
}

impl Usage {
    /// The usage of `count` servers of a flavor.
    pub fn of(vcpus: i64, ram_mb: i64, count: i64) -> Usage {
        Usage { instances: count, cores: vcpus * count, ram_mb: ram_mb * count }
    }

    /// What going from `self` to `to` adds, per quota (nothing where it shrinks): the part of
    /// a resize the quota must still have room for.
    pub fn growth_to(self, to: Usage) -> Usage {
        Usage {
            instances: (to.instances - self.instances).max(0),
            cores: (to.cores - self.cores).max(0),
            ram_mb: (to.ram_mb - self.ram_mb).max(0),
        }
    }

    pub fn plus(self, o: Usage) -> Usage {
        Usage { instances: self.instances + o.instances, cores: self.cores + o.cores, ram_mb: self.ram_mb + o.ram_mb }
    }
}

impl Quotas {
    /// Why `used` plus `asked` would not fit, naming the first quota it exceeds; `None` if it fits.
    /// Only what the request asks more of is checked: a resize that adds vCPUs but no memory
    /// is not refused because the project is over its memory quota (which may have been
    /// lowered after its servers were made).
    pub fn refusal(&self, used: Usage, asked: Usage) -> Option<String> {
        let after = used.plus(asked);
        let checks = [
            ("instances", asked.instances, after.instances, self.instances, used.instances),
            ("vCPUs", asked.cores, after.cores, self.cores, used.cores),
            ("memory (MB)", asked.ram_mb, after.ram_mb, self.ram_mb, used.ram_mb),
        ];
        checks.iter().find(|(_, asked, after, max, _)| *asked > 0 && after > max).map(|(what, _, _, max, used)| {
            format!("Insufficient ECS quota: the request needs more {what} than are left (quota {max}, in use {used}).")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_reaches_the_quota_exactly_fits() {
        let q = Quotas { instances: 2, cores: 4, ram_mb: 4096 };
        assert_eq!(q.refusal(Usage::of(2, 2048, 1), Usage::of(2, 2048, 1)), None);
        let why = q.refusal(Usage::of(2, 2048, 1), Usage::of(1, 1024, 2)).unwrap_or_default();
        assert!(why.contains("instances"), "{why}");
        let why = q.refusal(Usage::default(), Usage::of(5, 1024, 1)).unwrap_or_default();
        assert!(why.contains("vCPUs"), "{why}");
    }

    #[test]
    fn a_resize_is_checked_only_for_what_it_adds() {
        let q = Quotas { instances: 1, cores: 4, ram_mb: 4096 };
        let grow = Usage::of(1, 8192, 1).growth_to(Usage::of(2, 4096, 1));
        assert_eq!(grow, Usage { instances: 0, cores: 1, ram_mb: 0 });
        // Over the memory quota already, and at the instance quota: one more vCPU still fits.
        assert_eq!(q.refusal(Usage::of(3, 8192, 1), grow), None);
        let why = q.refusal(Usage::of(4, 8192, 1), grow).unwrap_or_default();
        assert!(why.contains("vCPUs"), "{why}");
    }
}
