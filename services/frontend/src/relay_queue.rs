//! The bounded road from the raw socket to the engine: a FIFO of Router
//! Advertisements waiting for room, and a sender that keeps at most a window
//! of calls unanswered. A burst larger than the window waits here instead of
//! being dropped, and is sent back to back as answers come in (capnp
//! pipelines the calls on one connection).
//!
//! It must never reorder what it was offered, never make the receiving side
//! wait for the engine, and never hold more than `window` calls plus
//! `capacity` waiting items: an item offered to a full queue is handed back
//! for the caller to count as dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroUsize;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Notify;

pub struct RelayQueue<T> {
    waiting: RefCell<VecDeque<T>>,
    capacity: usize,
    window: NonZeroUsize,
    arrived: Notify,
}

impl<T> RelayQueue<T> {
    /// At most `window` calls unanswered and `capacity` items waiting.
    pub fn new(capacity: usize, window: NonZeroUsize) -> Self {
        RelayQueue {
            waiting: RefCell::new(VecDeque::with_capacity(capacity)),
            capacity,
            window,
            arrived: Notify::new(),
        }
    }

    /// Queues `item` behind those waiting, or hands it back when the queue
    /// is full.
    pub fn offer(&self, item: T) -> Result<(), T> {
        let mut waiting = self.waiting.borrow_mut();
        if waiting.len() >= self.capacity {
            return Err(item);
        }
        waiting.push_back(item);
        self.arrived.notify_one();
        Ok(())
    }

    /// How many items wait for room in the window.
    pub fn waiting(&self) -> usize {
        self.waiting.borrow().len()
    }

    /// Sends the items in the order they were offered: `send` starts one
    /// call (synchronously, so calls leave in order) and returns its answer,
    /// which must resolve once the call is answered or failed. Runs for as
    /// long as it is polled.
    pub async fn run<F, A>(&self, mut send: F) -> Infallible
    where
        F: FnMut(T) -> A,
        A: Future<Output = ()>,
    {
        let mut unanswered = FuturesUnordered::new();
        loop {
            while unanswered.len() < self.window.get() {
                // Bind first so the borrow ends before `send` runs.
                let next = self.waiting.borrow_mut().pop_front();
                let Some(item) = next else { break };
                unanswered.push(send(item));
            }
            let room = unanswered.len() < self.window.get();
            tokio::select! {
                Some(()) = unanswered.next(), if !unanswered.is_empty() => {}
                () = self.arrived.notified(), if room => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use tokio::sync::oneshot;

    use super::*;

    /// A fake engine: records what it was sent, in order, and answers a call
    /// only when the test says so.
    #[derive(Default)]
    struct Engine {
        sent: RefCell<Vec<u32>>,
        answers: RefCell<VecDeque<oneshot::Sender<()>>>,
        unanswered: Cell<usize>,
    }

    impl Engine {
        fn call(self: &Rc<Self>, item: u32) -> impl Future<Output = ()> + use<> {
            self.sent.borrow_mut().push(item);
            let (answer, answered) = oneshot::channel();
            self.answers.borrow_mut().push_back(answer);
            self.unanswered.set(self.unanswered.get() + 1);
            let engine = Rc::clone(self);
            async move {
                let _ = answered.await;
                engine.unanswered.set(engine.unanswered.get() - 1);
            }
        }

        fn answer(&self, count: usize) {
            for _ in 0..count {
                if let Some(answer) = self.answers.borrow_mut().pop_front() {
                    let _ = answer.send(());
                }
            }
        }
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    fn run_local<F: Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        tokio::task::LocalSet::new().block_on(&runtime, future)
    }

    fn window(size: usize) -> NonZeroUsize {
        NonZeroUsize::new(size).expect("a window of at least one")
    }

    #[test]
    fn a_burst_beyond_the_window_waits_and_leaves_in_order() {
        run_local(async {
            let queue = Rc::new(RelayQueue::new(16, window(4)));
            let engine = Rc::new(Engine::default());
            let runner = {
                let (queue, engine) = (Rc::clone(&queue), Rc::clone(&engine));
                tokio::task::spawn_local(async move { queue.run(|item| engine.call(item)).await })
            };
            for item in 0..12 {
                queue.offer(item).expect("room for the burst");
            }
            settle().await;
            assert_eq!(*engine.sent.borrow(), vec![0, 1, 2, 3], "the window is 4");
            assert_eq!(queue.waiting(), 8);

            for _ in 0..3 {
                engine.answer(4);
                settle().await;
            }
            assert_eq!(*engine.sent.borrow(), (0..12).collect::<Vec<_>>());
            assert_eq!(queue.waiting(), 0);
            runner.abort();
        });
    }

    #[test]
    fn a_full_queue_hands_back_exactly_what_exceeds_its_bounds() {
        run_local(async {
            let queue = Rc::new(RelayQueue::new(8, window(4)));
            let engine = Rc::new(Engine::default());
            let runner = {
                let (queue, engine) = (Rc::clone(&queue), Rc::clone(&engine));
                tokio::task::spawn_local(async move { queue.run(|item| engine.call(item)).await })
            };
            let mut refused = Vec::new();
            for item in 0..100 {
                if let Err(item) = queue.offer(item) {
                    refused.push(item);
                }
                // The sender runs between receptions, as in the daemon.
                settle().await;
            }
            assert_eq!(
                engine.unanswered.get(),
                4,
                "never more calls than the window"
            );
            assert_eq!(queue.waiting(), 8, "never more waiting than the capacity");
            assert_eq!(refused, (12..100).collect::<Vec<_>>(), "refused = dropped");

            for _ in 0..3 {
                engine.answer(4);
                settle().await;
            }
            assert_eq!(*engine.sent.borrow(), (0..12).collect::<Vec<_>>());
            queue.offer(100).expect("room again once answered");
            settle().await;
            assert_eq!(engine.sent.borrow().last(), Some(&100));
            runner.abort();
        });
    }

    #[test]
    fn an_item_offered_while_the_sender_is_idle_is_sent_at_once() {
        run_local(async {
            let queue = Rc::new(RelayQueue::new(4, window(2)));
            let engine = Rc::new(Engine::default());
            let runner = {
                let (queue, engine) = (Rc::clone(&queue), Rc::clone(&engine));
                tokio::task::spawn_local(async move { queue.run(|item| engine.call(item)).await })
            };
            settle().await;
            queue.offer(7).expect("an empty queue has room");
            settle().await;
            assert_eq!(*engine.sent.borrow(), vec![7]);
            runner.abort();
        });
    }
}
