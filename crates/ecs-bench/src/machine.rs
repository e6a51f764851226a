//! What the machine is and how busy it is, printed with the results (figures from a shared
//! 2-core machine mean little without it).

/// CPU count and model, memory, and the load average before the run.
pub fn describe() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu_model(&cpuinfo).unwrap_or("unknown CPU");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = mem_total_kib(&meminfo).map(|k| format!("{:.1} GiB", k as f64 / 1024.0 / 1024.0)).unwrap_or_default();
    format!("machine: {cpus} CPUs ({model}), {mem} memory; {}", load_line())
}

/// `load average: 0.42 0.51 0.60` from /proc/loadavg.
pub fn load_line() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let parts: Vec<&str> = l.split_whitespace().take(3).collect();
    format!("load average: {}", parts.join(" "))
}

pub fn cpu_model(cpuinfo: &str) -> Option<&str> {
    cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim())
}

pub fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_memory() {
        assert_eq!(cpu_model("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: x\n"), Some("AMD EPYC"));
        assert_eq!(mem_total_kib("MemTotal:       24684132 kB\nMemFree: 1 kB\n"), Some(24684132));
        assert_eq!(cpu_model(""), None);
    }
}
