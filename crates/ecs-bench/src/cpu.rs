//! CPU time of ecsd and of the load generator over a phase, from /proc: on a 2-core machine
//! the two compete, and the split says which one a figure is bounded by.

use std::time::Instant;

/// CPU seconds used so far by ecsd and by this process, and when that was read.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    at: Instant,
    ecsd: Option<f64>,
    bench: Option<f64>,
}

/// Cores used on average between two samples (1.0 = one core fully busy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    pub ecsd: f64,
    pub bench: f64,
}

/// `utime + stime` (fields 14 and 15) in clock ticks from the text of `/proc/PID/stat`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value; it has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(parse_stat_ticks(&stat)? as f64 / ticks_per_second())
}

impl CpuSample {
    pub fn take(ecsd_pid: Option<u32>) -> CpuSample {
        CpuSample {
            at: Instant::now(),
            ecsd: ecsd_pid.and_then(|p| cpu_seconds(&p.to_string())),
            bench: cpu_seconds("self"),
        }
    }

    /// Average cores used since `earlier`; 0 where a reading is missing.
    pub fn since(&self, earlier: &CpuSample) -> CpuUse {
        let wall = self.at.duration_since(earlier.at).as_secs_f64().max(1e-9);
        let d = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).max(0.0) / wall,
            _ => 0.0,
        };
        CpuUse { ecsd: d(self.ecsd, earlier.ecsd), bench: d(self.bench, earlier.bench) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_from_a_stat_line_with_spaces_in_the_name() {
        let stat = "1234 (tokio worker 1) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(300));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let a = CpuSample::take(None);
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = CpuSample::take(None);
        let u = b.since(&a);
        assert!(u.bench >= 0.0);
        assert_eq!(u.ecsd, 0.0);
    }
}
