//! The thread pool CPU-heavy work runs on (rescoring, compliance analysis, sanctions
//! screening): rayon's work stealing, built on first use so commands that never need it
//! (a single post) start no threads.
//!
//! One thread per CPU the process may use, but at least `THREADS_MIN`: on a machine (or a
//! container quota) that reports one CPU, a second thread costs a few context switches, while
//! one thread alone made the parallel steps up to twice as slow as on two CPUs whenever the
//! host had a second core to give (measured with `with-cpus 1`: sanctions 1.86×).
//! `RAYON_NUM_THREADS` sets the count exactly.

use std::sync::OnceLock;

/// Fewest threads the pool runs, whatever the CPU count reads.
const THREADS_MIN: usize = 2;

static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

fn thread_count() -> usize {
    let from_environment = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|count| *count > 0);
    from_environment.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(THREADS_MIN, usize::from)
            .max(THREADS_MIN)
    })
}

/// Run `work` with the pool as rayon's current pool: its parallel iterators use it.
/// When the pool cannot be started (no threads to be had), `work` runs on rayon's default.
pub fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(thread_count())
            .thread_name(|index| format!("fincore-cpu-{index}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pool_has_at_least_two_threads() {
        if std::env::var_os("RAYON_NUM_THREADS").is_some() {
            return; // the count is the operator's then
        }
        assert!(super::run(rayon::current_num_threads) >= super::THREADS_MIN);
    }
}
