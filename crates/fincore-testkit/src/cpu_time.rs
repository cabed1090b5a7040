//! CPU time (user + system) for the benchmarks: on a shared machine wall time also
//! counts other processes' work, CPU time does not. Linux only (`/proc`).

use std::time::Duration;

/// Linux reports CPU time in /proc in ticks of 1/100 s (USER_HZ, fixed for the ABI).
const CLOCK_TICK: Duration = Duration::from_millis(10);

/// This process so far.
pub fn process() -> Duration {
    from_stat("/proc/self/stat")
}

/// The calling thread so far.
pub fn thread() -> Duration {
    from_stat("/proc/thread-self/stat")
}

fn from_stat(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime (fields 14 and 15 of
    // stat) are at 11 and 12 there.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<u32>().ok())
            .unwrap_or(0)
    };
    CLOCK_TICK * (ticks(11) + ticks(12))
}

#[cfg(test)]
mod tests {
    /// CPU time moves in clock ticks (10 ms) and a loaded machine may give this thread less
    /// than a tick per wall-clock tick: spin until it shows, for at most 10 s of wall time.
    #[test]
    fn busy_work_shows_as_cpu_time() {
        let (process_before, thread_before) = (super::process(), super::thread());
        let started = std::time::Instant::now();
        let mut sum = 0u64;
        while super::thread() == thread_before
            && started.elapsed() < std::time::Duration::from_secs(10)
        {
            for _ in 0..100_000 {
                sum = std::hint::black_box(sum.wrapping_add(1));
            }
        }
        assert!(super::thread() > thread_before, "thread CPU time grew");
        assert!(super::process() > process_before, "process CPU time grew");
    }
}
