//! The thread pool CPU-heavy work runs on (rescoring, compliance analysis, sanctions
//! screening): rayon's work stealing, built for the step that needs it and sized from the
//! work, so commands that never need it (a single post) start no threads, and a small
//! ledger does not start 64 threads because the machine reports 64 CPUs (under
//! `with-cpus 64` that cost the 50 ms demo 1.48× its 2-CPU time).
//!
//! Threads: one per task the work splits into, at most one per CPU the process may use, and
//! at least `THREADS_MIN`: on a machine (or a container quota) that reports one CPU, a second
//! thread costs a few context switches, while one thread alone made the parallel steps up to
//! twice as slow as on two CPUs whenever the host had a second core to give (measured with
//! `with-cpus 1`: sanctions 1.86×). `RAYON_NUM_THREADS` sets the count exactly.

/// Fewest threads the pool runs, whatever the CPU count reads.
const THREADS_MIN: usize = 2;

fn thread_count(tasks: usize) -> usize {
    let from_environment = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|count| *count > 0);
    from_environment.unwrap_or_else(|| {
        let cpus = std::thread::available_parallelism().map_or(THREADS_MIN, usize::from);
        tasks.min(cpus).max(THREADS_MIN)
    })
}

/// Run `work`, which splits into about `tasks` parallel tasks, on a pool sized for it (rayon's
/// parallel iterators inside use it). When no pool can be started (no threads to be had),
/// `work` runs on rayon's default pool.
pub(crate) fn run<R: Send>(tasks: usize, work: impl FnOnce() -> R + Send) -> R {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(thread_count(tasks))
        .thread_name(|index| format!("fincore-cpu-{index}"))
        .build();
    match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pool_is_sized_from_the_work_and_the_cpus() {
        if std::env::var_os("RAYON_NUM_THREADS").is_some() {
            return; // the count is the operator's then
        }
        assert_eq!(
            super::run(1, rayon::current_num_threads),
            super::THREADS_MIN
        );
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let many = super::run(1_000, rayon::current_num_threads);
        assert_eq!(
            many,
            cpus.max(super::THREADS_MIN),
            "one thread per CPU at most"
        );
    }
}
