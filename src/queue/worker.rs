//! The one worker loop: run a step until the queue is empty, wait, repeat,
//! until told to stop. Periodic jobs use [`every`].

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// What one step of a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Worked on an item: go on at once.
    Worked,
    /// Nothing is due: wait before looking again.
    Idle,
}

/// Wait `d`, or less when `stop` turns true (or its sender goes). True when stopping.
pub async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(d) => *stop.borrow(),
        changed = stop.changed() => changed.is_err() || *stop.borrow(),
    }
}

/// Drain a queue with `step` until `stop`: at once after work, after `idle`
/// when nothing is due, after `idle` too when a step fails (logged).
pub async fn run_worker<F, Fut, E>(name: &'static str, idle: Duration, mut stop: watch::Receiver<bool>, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step, E>>,
    E: std::fmt::Display,
{
    loop {
        if *stop.borrow() {
            return;
        }
        let wait = match step().await {
            Ok(Step::Worked) => continue,
            Ok(Step::Idle) => idle,
            Err(e) => {
                tracing::error!(worker = name, error.message = %e, "worker step failed; trying again shortly");
                idle.max(Duration::from_secs(1))
            }
        };
        if pause(wait, &mut stop).await {
            return;
        }
    }
}

/// Run `job` at once and then every `period`, until `stop`; failures are logged.
pub async fn every<F, Fut, E>(name: &'static str, period: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    loop {
        if let Err(e) = job().await {
            tracing::warn!(job = name, error.message = %e, "periodic job failed; trying again later");
        }
        if pause(period, &mut stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_worker_drains_then_stops_when_told() {
        let (tx, rx) = watch::channel(false);
        let left = Arc::new(AtomicUsize::new(3));
        let calls = Arc::new(AtomicUsize::new(0));
        let (l, c) = (left.clone(), calls.clone());
        let task = tokio::spawn(run_worker("test", Duration::from_secs(3600), rx, move || {
            let (l, c) = (l.clone(), c.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let worked = l.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                Ok::<_, std::convert::Infallible>(if worked { Step::Worked } else { Step::Idle })
            }
        }));
        while calls.load(Ordering::SeqCst) < 4 {
            tokio::task::yield_now().await;
        }
        tx.send(true).expect("send");
        task.await.expect("worker ends");
        assert_eq!(left.load(Ordering::SeqCst), 0);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "three items, then one empty look, then the long wait is cut short"
        );
    }
}
