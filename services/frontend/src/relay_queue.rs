//! The bounded road from the raw socket to the engine: a FIFO of Router
//! Advertisements waiting for room, and a sender that keeps at most a few
//! calls unanswered, each carrying every item waiting (up to a batch). An
//! item offered while the road is idle leaves at once, alone; a burst waits
//! here instead of being dropped and leaves in a few calls, so the cost of a
//! call is shared by the items of a burst.
//!
//! It must never reorder what it was offered, never make the receiving side
//! wait for the engine, and never hold more than [`RelayBounds::most_held`]
//! items: an item offered to a full queue is handed back for the caller to
//! count as dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroUsize;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Notify;

/// How much a [`RelayQueue`] holds.
#[derive(Debug, Clone, Copy)]
pub struct RelayBounds {
    /// Items waiting for a call.
    pub waiting: usize,
    /// Calls unanswered at once.
    pub calls: NonZeroUsize,
    /// Items in one call.
    pub per_call: NonZeroUsize,
}

impl RelayBounds {
    /// The most items held at once, waiting or in unanswered calls: one
    /// more offered is handed back.
    pub const fn most_held(&self) -> usize {
        self.waiting + self.calls.get() * self.per_call.get()
    }
}

pub struct RelayQueue<T> {
    waiting: RefCell<VecDeque<T>>,
    bounds: RelayBounds,
    arrived: Notify,
}

impl<T> RelayQueue<T> {
    pub fn new(bounds: RelayBounds) -> Self {
        RelayQueue {
            waiting: RefCell::new(VecDeque::with_capacity(bounds.waiting)),
            bounds,
            arrived: Notify::new(),
        }
    }

    /// Queues `item` behind those waiting, or hands it back when the queue
    /// is full.
    pub fn offer(&self, item: T) -> Result<(), T> {
        let mut waiting = self.waiting.borrow_mut();
        if waiting.len() >= self.bounds.waiting {
            return Err(item);
        }
        waiting.push_back(item);
        self.arrived.notify_one();
        Ok(())
    }

    /// How many items wait for a call.
    pub fn waiting(&self) -> usize {
        self.waiting.borrow().len()
    }

    /// Sends the items in the order they were offered: `send` starts one
    /// call with the oldest waiting items (synchronously, so calls leave in
    /// order) and returns its answer, which must resolve once the call is
    /// answered or failed. Runs for as long as it is polled.
    pub async fn run<F, A>(&self, mut send: F) -> Infallible
    where
        F: FnMut(Vec<T>) -> A,
        A: Future<Output = ()>,
    {
        let calls = self.bounds.calls.get();
        let mut unanswered = FuturesUnordered::new();
        loop {
            while unanswered.len() < calls {
                let batch = self.next_batch();
                if batch.is_empty() {
                    break;
                }
                unanswered.push(send(batch));
            }
            let room = unanswered.len() < calls;
            tokio::select! {
                Some(()) = unanswered.next(), if !unanswered.is_empty() => {}
                () = self.arrived.notified(), if room => {}
            }
        }
    }

    /// Takes the oldest waiting items, at most one call's worth. The borrow
    /// ends before the caller sends them.
    fn next_batch(&self) -> Vec<T> {
        let mut waiting = self.waiting.borrow_mut();
        let count = waiting.len().min(self.bounds.per_call.get());
        waiting.drain(..count).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use tokio::sync::oneshot;

    use super::*;
    use crate::test_runtime::run_local;

    /// A fake engine: records each call's items, in order, and answers a
    /// call only when the test says so.
    #[derive(Default)]
    struct Engine {
        calls: RefCell<Vec<Vec<u32>>>,
        answers: RefCell<VecDeque<oneshot::Sender<()>>>,
        unanswered: Cell<usize>,
    }

    impl Engine {
        fn call(self: &Rc<Self>, items: Vec<u32>) -> impl Future<Output = ()> + use<> {
            self.calls.borrow_mut().push(items);
            let (answer, answered) = oneshot::channel();
            self.answers.borrow_mut().push_back(answer);
            self.unanswered.set(self.unanswered.get() + 1);
            let engine = Rc::clone(self);
            async move {
                let _ = answered.await;
                engine.unanswered.set(engine.unanswered.get() - 1);
            }
        }

        /// Answers the oldest unanswered call and lets the queue react.
        async fn answer_one(&self) {
            if let Some(answer) = self.answers.borrow_mut().pop_front() {
                let _ = answer.send(());
            }
            settle().await;
        }

        /// Every item sent so far, in the order sent.
        fn items(&self) -> Vec<u32> {
            self.calls.borrow().concat()
        }
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    fn bounds(waiting: usize, calls: usize, per_call: usize) -> RelayBounds {
        RelayBounds {
            waiting,
            calls: NonZeroUsize::new(calls).expect("at least one call"),
            per_call: NonZeroUsize::new(per_call).expect("at least one item a call"),
        }
    }

    /// A queue with `bounds` whose sender calls the returned engine.
    fn relay(
        bounds: RelayBounds,
    ) -> (
        Rc<RelayQueue<u32>>,
        Rc<Engine>,
        tokio::task::JoinHandle<Infallible>,
    ) {
        let queue = Rc::new(RelayQueue::new(bounds));
        let engine = Rc::new(Engine::default());
        let runner = {
            let (queue, engine) = (Rc::clone(&queue), Rc::clone(&engine));
            tokio::task::spawn_local(async move { queue.run(|items| engine.call(items)).await })
        };
        (queue, engine, runner)
    }

    #[test]
    fn a_burst_leaves_in_order_in_calls_of_at_most_a_batch() {
        run_local(async {
            let (queue, engine, runner) = relay(bounds(64, 2, 4));
            for item in 0..18 {
                queue.offer(item).expect("room for the burst");
            }
            settle().await;
            assert_eq!(
                *engine.calls.borrow(),
                vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]],
                "two calls of four"
            );
            assert_eq!(queue.waiting(), 10);

            while engine.unanswered.get() > 0 {
                engine.answer_one().await;
            }
            assert_eq!(engine.items(), (0..18).collect::<Vec<_>>());
            let sizes: Vec<usize> = engine.calls.borrow().iter().map(Vec::len).collect();
            assert_eq!(sizes, vec![4, 4, 4, 4, 2]);
            assert_eq!(queue.waiting(), 0);
            runner.abort();
        });
    }

    #[test]
    fn a_full_queue_hands_back_exactly_what_exceeds_its_bounds() {
        run_local(async {
            let (queue, engine, runner) = relay(bounds(8, 2, 4));
            let mut refused = Vec::new();
            for item in 0..100 {
                if let Err(item) = queue.offer(item) {
                    refused.push(item);
                }
                // The sender runs between receptions, as in the daemon.
                settle().await;
            }
            // The first two went alone while calls were free, the next
            // eight wait: the rest was handed back.
            assert_eq!(*engine.calls.borrow(), vec![vec![0], vec![1]]);
            assert_eq!(engine.unanswered.get(), 2, "never more calls than 2");
            assert_eq!(queue.waiting(), 8, "never more waiting than 8");
            assert_eq!(refused, (10..100).collect::<Vec<_>>(), "refused = dropped");

            // Answers take what waits in calls of four.
            engine.answer_one().await;
            assert_eq!(engine.calls.borrow().last(), Some(&vec![2, 3, 4, 5]));
            for item in 100..104 {
                queue.offer(item).expect("room again once a call took some");
            }
            assert!(queue.offer(104).is_err(), "full again");
            while engine.unanswered.get() > 0 {
                engine.answer_one().await;
            }
            let sent: Vec<u32> = (0..10).chain(100..104).collect();
            assert_eq!(engine.items(), sent);
            assert!(engine.calls.borrow().iter().all(|call| call.len() <= 4));
            runner.abort();
        });
    }

    #[test]
    fn a_full_queue_holds_at_most_its_bound() {
        run_local(async {
            let bounds = bounds(8, 2, 4);
            let (queue, engine, runner) = relay(bounds);
            // Nothing runs the sender until the queue is full once: the
            // first calls take whole batches.
            for item in 0..8 {
                queue.offer(item).expect("room");
            }
            settle().await;
            let mut refused = 0;
            for item in 8..100 {
                if queue.offer(item).is_err() {
                    refused += 1;
                }
            }
            let in_calls: usize = engine.calls.borrow().iter().map(Vec::len).sum();
            assert_eq!(in_calls + queue.waiting(), bounds.most_held());
            assert_eq!(refused, 100 - bounds.most_held());
            runner.abort();
        });
    }

    #[test]
    fn an_item_offered_while_the_sender_is_idle_is_sent_at_once_alone() {
        run_local(async {
            let (queue, engine, runner) = relay(bounds(4, 2, 64));
            settle().await;
            queue.offer(7).expect("an empty queue has room");
            settle().await;
            assert_eq!(*engine.calls.borrow(), vec![vec![7]]);
            runner.abort();
        });
    }
}
