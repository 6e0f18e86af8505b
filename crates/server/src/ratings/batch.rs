//! Group commit for ratings (decision 0037): the ratings given at the same moment on one instance
//! share one write transaction, and are recorded together in a handful of statements
//! ([`record_many`]); should that fail (a case rated meanwhile on another instance), nothing of
//! it is kept, and the batch is recorded again in a new transaction, each rating in a savepoint
//! of its own, so that one rating's failure leaves the others untouched.
//! Each is answered only after the transaction that holds it has committed, so a 2xx still means
//! the rating is stored. One durable commit then carries many ratings, which is what lets a busy
//! hall's ratings in at thousands a second.

use futures::FutureExt;
use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, oneshot};
use xiaoneng_store::{
    StoreError,
    entity::{api_client, rating},
};

use super::{Aim, Giving, Rater, RatingBody, RatingReceipt, Rules, record_many};
use crate::{ApiError, ApiResult, AppState};

/// At most this many ratings share a transaction; more waiting go into the next.
const MAX_BATCH: usize = 256;

/// A rating waiting to be recorded, and where its answer goes.
pub struct Job {
    channel: xiaoneng_core::rating::RatingChannel,
    device: Option<api_client::Model>,
    ip: String,
    aim: Aim,
    body: RatingBody,
    reply: oneshot::Sender<ApiResult<RatingReceipt>>,
}

/// The instance's queue of ratings to record.
pub type Queue = mpsc::Sender<Job>;

/// Hands a rating to the instance's recorder and waits for its answer, given after the commit.
pub async fn submit(s: &AppState, rater: &Rater<'_>, aim: &Aim, b: &RatingBody) -> ApiResult<RatingReceipt> {
    let queue = s.rating_queue().await;
    let (reply, answer) = oneshot::channel();
    let job = Job {
        channel: rater.channel,
        device: rater.device.cloned(),
        ip: rater.ip.clone(),
        aim: aim.clone(),
        body: b.clone(),
        reply,
    };
    queue.send(job).await.map_err(|_| ApiError::Busy)?;
    answer.await.map_err(|_| ApiError::Busy)?
}

/// Starts the recorder: it takes what is waiting (up to [`MAX_BATCH`]) and records it in one
/// transaction, again and again, until the instance stops.
pub fn start(s: AppState) -> Queue {
    let (queue, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut last = 0;
        while let Some(first) = jobs.recv().await {
            let mut batch = vec![first];
            take_waiting(&mut jobs, &mut batch);
            // Fewer waiting than the last batch held: its raters, just answered, are sending their
            // next. Waiting for them (a few milliseconds at most) lets them into this batch, so
            // that busy raters share one commit instead of alternating between a full batch and
            // a nearly empty one that costs the recorder almost as much. A rater alone never
            // waits (decision 0037).
            let until = tokio::time::Instant::now() + GATHER;
            while batch.len() < last {
                match tokio::time::timeout_at(until, jobs.recv()).await {
                    Ok(Some(j)) => {
                        batch.push(j);
                        take_waiting(&mut jobs, &mut batch);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            last = batch.len();
            // A panic answers the batch's raters (their replies are dropped: 503 busy) and the
            // recorder goes on with the next.
            if std::panic::AssertUnwindSafe(run(&s, batch)).catch_unwind().await.is_err() {
                tracing::error!("the rating recorder panicked on a batch; its ratings were not stored");
            }
        }
    });
    queue
}

/// How long at most a batch smaller than the last waits for the rest of its raters: about what a
/// batch of one costs the recorder on a busy two-core machine.
const GATHER: std::time::Duration = std::time::Duration::from_millis(3);

/// Adds to `batch` what is waiting, up to [`MAX_BATCH`].
fn take_waiting(jobs: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
}

/// What each rating of a batch that could not be stored is told: the store was busy (the rater
/// may send it again), or it failed.
fn lost(e: &StoreError) -> ApiError {
    match e {
        StoreError::Busy => ApiError::Busy,
        e => ApiError::Internal(format!("rating batch: {e}")),
    }
}

async fn run(s: &AppState, batch: Vec<Job>) {
    let started = std::time::Instant::now();
    let size = batch.len();
    let (replies, asks): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|j| (j.reply, Ask { channel: j.channel, device: j.device, ip: j.ip, aim: j.aim, body: j.body }))
        .unzip();
    let answers = match attempt(s, &asks, Together::Yes).await {
        Some(answers) => answers,
        None => attempt(s, &asks, Together::No).await.unwrap_or_else(|| busy(asks.len())),
    };
    tracing::debug!(ratings = size, total_us = started.elapsed().as_micros() as u64, "rating batch");
    for (reply, answer) in replies.into_iter().zip(answers) {
        let _ = reply.send(answer);
    }
}

/// A rating of the batch, without where its answer goes.
struct Ask {
    channel: xiaoneng_core::rating::RatingChannel,
    device: Option<api_client::Model>,
    ip: String,
    aim: Aim,
    body: RatingBody,
}

#[derive(Clone, Copy)]
enum Together {
    /// The batch in one go: should any rating's statement fail, nothing of it is kept.
    Yes,
    /// Each rating in a savepoint of its own, so that one's failure leaves the others.
    No,
}

fn busy(n: usize) -> Vec<ApiResult<RatingReceipt>> {
    (0..n).map(|_| Err(ApiError::Busy)).collect()
}

/// Records the batch in one write transaction and answers each of its ratings once that has
/// ended. `None`: the batch could not be recorded together (a case rated meanwhile on another
/// instance), and nothing of it was kept: it is to be recorded again one by one.
async fn attempt(s: &AppState, asks: &[Ask], together: Together) -> Option<Vec<ApiResult<RatingReceipt>>> {
    let all_lost = |e: &StoreError| Some(asks.iter().map(|_| Err(lost(e))).collect());
    let tx = match s.store.write().await {
        Ok(tx) => tx,
        Err(e) => return all_lost(&e),
    };
    // The reasons and policy in force, read once for the batch: the transaction sees no change
    // to them from elsewhere while it lasts.
    let rules = match Rules::load(&tx).await {
        Ok(r) => r,
        Err(e) => {
            return Some(
                asks.iter()
                    .map(|_| {
                        Err(match &e {
                            ApiError::Busy => ApiError::Busy,
                            other => ApiError::Internal(format!("rating rules: {other}")),
                        })
                    })
                    .collect(),
            );
        }
    };
    // The windows and staff the public's codes name, read once for the batch: a code that names
    // no active one is unknown, and its rater told so.
    let (mut windows, mut people) = (Vec::new(), Vec::new());
    for a in asks {
        match a.aim {
            Aim::Window(id) => windows.push(id),
            Aim::Staff(id) => people.push(id),
            Aim::Target(_) => {}
        }
    }
    let (windows, people) = match xiaoneng_store::org::active_windows_and_people(&tx, &windows, &people).await {
        Ok(found) => found,
        Err(e) => return all_lost(&e),
    };
    let now = s.clock.now();
    let (algo, vault) = (s.store.audit_algo(), s.store.vault());
    // Each rating's answer, if it has one yet (`Ok(None)`: abandoned with the transaction).
    let mut answers: Vec<Option<ApiResult<Option<RatingReceipt>>>> = asks.iter().map(|_| None).collect();
    let (mut given, mut at) = (Vec::with_capacity(asks.len()), Vec::with_capacity(asks.len()));
    for (i, a) in asks.iter().enumerate() {
        match a.aim.clone().target(&windows, &people) {
            Some(target) => {
                given.push(Giving {
                    rater: Rater { channel: a.channel, device: a.device.as_ref(), ip: a.ip.clone() },
                    target,
                    body: a.body.clone(),
                    at: now,
                });
                at.push(i);
            }
            None => answers[i] = Some(Err(super::public::unknown_code())),
        }
    }
    // Every code unknown: nothing to write, nor to commit.
    if given.is_empty() {
        return Some(asks.iter().map(|_| Err(super::public::unknown_code())).collect());
    }
    let receipt = |m: rating::Model| Some(RatingReceipt { id: m.id, status: m.status, hold_reason: m.hold_reason });
    // A savepoint that cannot be opened, released or rolled back leaves the transaction in doubt
    // (on PostgreSQL, aborted): nothing of the batch is committed then.
    let mut broken = None;
    match together {
        Together::Yes => match record_many(&tx, algo, vault, &rules, &given).await {
            Ok(recorded) => {
                for (&i, r) in at.iter().zip(recorded) {
                    answers[i] = Some(r.map(receipt));
                }
            }
            Err(e) => {
                tracing::debug!(error = ?e, ratings = given.len(), "a batch of ratings is recorded one by one");
                let _ = tx.rollback().await;
                return None;
            }
        },
        Together::No => {
            for (&i, g) in at.iter().zip(&given) {
                if broken.is_some() {
                    answers[i] = Some(Ok(None));
                    continue;
                }
                let sp = match tx.begin().await {
                    Ok(sp) => sp,
                    Err(e) => {
                        broken = Some(StoreError::from(e));
                        answers[i] = Some(Ok(None));
                        continue;
                    }
                };
                let recorded = match record_many(&sp, algo, vault, &rules, std::slice::from_ref(g)).await {
                    Ok(mut one) => one.pop().unwrap_or(Err(ApiError::Busy)),
                    Err(e) => Err(e),
                };
                answers[i] = Some(match recorded {
                    Ok(m) => match sp.commit().await {
                        Ok(()) => Ok(receipt(m)),
                        Err(e) => {
                            broken = Some(StoreError::from(e));
                            Ok(None)
                        }
                    },
                    // What this rating wrote goes; the batch's others stay.
                    Err(refused) => match sp.rollback().await {
                        Ok(()) => Err(refused),
                        Err(e) => {
                            broken = Some(StoreError::from(e));
                            Ok(None)
                        }
                    },
                });
            }
        }
    }
    if let Some(e) = broken {
        tracing::error!(error = %e, "a batch of ratings was abandoned");
        drop(tx);
        return all_lost(&e);
    }
    let committed = tx.commit().await.map_err(StoreError::from);
    if let Err(e) = &committed {
        tracing::error!(error = %e, ratings = given.len(), "a batch of ratings could not be committed");
    }
    Some(
        answers
            .into_iter()
            .map(|answer| match (&committed, answer.unwrap_or(Ok(None))) {
                (Ok(()), Ok(Some(receipt))) => Ok(receipt),
                (Ok(()), Ok(None)) => Err(ApiError::Busy),
                (Ok(()), Err(refused)) => Err(refused),
                // Nothing of the batch is stored. Bad input stays bad; any other refusal may have
                // come from a rating of the batch that is gone (the case "already rated", the
                // limit "reached"), so the rater is asked to send it again.
                (Err(_), Err(ApiError::Validation(errs))) => Err(ApiError::Validation(errs)),
                (Err(e), _) => Err(lost(e)),
            })
            .collect(),
    )
}
