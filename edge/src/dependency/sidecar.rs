//! The sidecar store of a WASIp3 request, where its component's dependencies run.
//!
//! A WASIp3 component runs in its store's async event loop (`run_concurrent`), and a host
//! function there cannot call into another instance: a synchronous call is refused in an
//! async store, and an asynchronous one would run the event loop inside itself. So a
//! WASIp3 component's dependencies run in a second store, made on the request's first
//! dependency call and owned by a blocking thread until the request ends. That store is a
//! WASIp2 importer's store in all but name: each provider is instantiated on its first
//! call, with the importer's key-value stores, variables (as `inherit_configuration`
//! grants them), outbound policy and limits ([`crate::handler`] makes it).
//!
//! This module only owns the thread and its store; what runs there is
//! [`crate::dependency::call`]'s.

use std::sync::mpsc;

use wasmtime::Store;

/// Makes the sidecar store of one request.
pub type MakeStore<T> = Box<dyn FnOnce() -> Store<T> + Send>;

type Job<T> = Box<dyn FnOnce(&mut Store<T>) + Send>;

/// A request's sidecar: how to make its store, then the way to its thread.
pub struct Sidecar<T: 'static> {
    make: Option<MakeStore<T>>,
    jobs: Option<mpsc::Sender<Job<T>>>,
}

impl<T> std::fmt::Debug for Sidecar<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sidecar")
            .field("started", &self.jobs.is_some())
            .finish_non_exhaustive()
    }
}

/// The sidecar's thread is gone (its store trapped past recovery or the request ended).
#[derive(Debug, thiserror::Error)]
#[error("the dependencies' store stopped")]
pub struct Stopped;

impl<T: 'static> Sidecar<T> {
    pub fn new(make: MakeStore<T>) -> Self {
        Self {
            make: Some(make),
            jobs: None,
        }
    }

    /// Runs `job` on the sidecar's store, starting its thread on the first job, and answers
    /// what the job answers.
    pub async fn run<R: Send + 'static>(
        &mut self,
        job: impl FnOnce(&mut Store<T>) -> R + Send + 'static,
    ) -> Result<R, Stopped> {
        let jobs = match &self.jobs {
            Some(jobs) => jobs.clone(),
            None => {
                let make = self.make.take().ok_or(Stopped)?;
                let (jobs, queue) = mpsc::channel::<Job<T>>();
                // Ends when the request's store drops its sender.
                tokio::task::spawn_blocking(move || {
                    let mut store = make();
                    while let Ok(job) = queue.recv() {
                        job(&mut store);
                    }
                });
                self.jobs = Some(jobs.clone());
                jobs
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        jobs.send(Box::new(move |store: &mut Store<T>| {
            let _ = reply.send(job(store));
        }))
        .map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}
