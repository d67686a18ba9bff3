//! rayon's global pool with the program's own thread as one of its threads.
//!
//! Why: every parallel loop of a training step (the kernels', burn-flex's, gemm's) is started from
//! the thread that runs the training loop. When that thread is outside the pool, each loop hands
//! its work to the pool's threads, puts the caller to sleep and wakes it at the end: two futex
//! calls and two context switches per loop, hundreds of loops per step. Inside the pool, the
//! caller works on its loop itself and another thread steals half. Two epochs of the FC
//! autoencoder on 30,000 images took 162,692 context switches outside and 4,980 inside, and about
//! a third less time (docs/training-kernels.md).
//!
//! Moving only the training step onto a pool thread (`rayon::scope`) did as well on time, but then
//! the CNN's runs with dropout differed now and then from run to run; with the training thread in
//! the pool they do not.

use std::num::NonZeroUsize;

/// Makes the calling thread thread 0 of rayon's global pool, with as many threads in all as rayon
/// would start (`RAYON_NUM_THREADS`, else one per CPU); whether it did. Call it first thing in
/// `main`, before anything uses rayon.
///
/// With a single thread it does nothing: that thread would then be the whole pool, and work that
/// other threads (the web demo's connections) hand to the pool would wait until it took part.
#[must_use]
pub fn join_rayon_pool() -> bool {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    threads >= 2 && rayon::ThreadPoolBuilder::new().num_threads(threads).use_current_thread().build_global().is_ok()
}
