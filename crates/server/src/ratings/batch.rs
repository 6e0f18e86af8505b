//! Group commit for ratings (decision 0037): the ratings given at the same moment on one instance
//! share one write transaction, and are recorded together in a handful of statements
//! ([`record_many`]); should that fail (a case rated meanwhile on another instance), each is
//! recorded again in its own savepoint, so that one rating's failure leaves the others untouched.
//! Each is answered only after the transaction that holds it has committed, so a 2xx still means
//! the rating is stored. One durable commit then carries many ratings, which is what lets a busy
//! hall's ratings in at thousands a second.

use futures::FutureExt;
use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, oneshot};
use xiaoneng_store::{StoreError, entity::api_client};

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
        while let Some(first) = jobs.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            // A panic answers the batch's raters (their replies are dropped: 503 busy) and the
            // recorder goes on with the next.
            if std::panic::AssertUnwindSafe(run(&s, batch)).catch_unwind().await.is_err() {
                tracing::error!("the rating recorder panicked on a batch; its ratings were not stored");
            }
        }
    });
    queue
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
    let tx = match s.store.write().await {
        Ok(tx) => tx,
        Err(e) => {
            for j in batch {
                let _ = j.reply.send(Err(lost(&e)));
            }
            return;
        }
    };
    // The reasons and policy in force, read once for the batch: the transaction sees no change
    // to them from elsewhere while it lasts.
    let rules = match Rules::load(&tx).await {
        Ok(r) => r,
        Err(e) => {
            for j in batch {
                let _ = j.reply.send(Err(match &e {
                    ApiError::Busy => ApiError::Busy,
                    other => ApiError::Internal(format!("rating rules: {other}")),
                }));
            }
            return;
        }
    };
    // The windows and staff the public's codes name, read once for the batch: a code that names
    // no active one is unknown, and its rater told so now.
    let (mut windows, mut people) = (Vec::new(), Vec::new());
    for j in &batch {
        match j.aim {
            Aim::Window(id) => windows.push(id),
            Aim::Staff(id) => people.push(id),
            Aim::Target(_) => {}
        }
    }
    let (windows, people) = match xiaoneng_store::org::active_windows_and_people(&tx, &windows, &people).await {
        Ok(found) => found,
        Err(e) => {
            for j in batch {
                let _ = j.reply.send(Err(lost(&e)));
            }
            return;
        }
    };
    let mut replies = Vec::with_capacity(batch.len());
    let mut pending = Vec::with_capacity(batch.len());
    for j in batch {
        match j.aim.target(&windows, &people) {
            Some(target) => {
                replies.push(j.reply);
                pending.push((j.channel, j.device, j.ip, target, j.body));
            }
            None => {
                let _ = j.reply.send(Err(super::public::unknown_code()));
            }
        }
    }
    if pending.is_empty() {
        return;
    }
    let now = s.clock.now();
    let (algo, vault) = (s.store.audit_algo(), s.store.vault());
    let given: Vec<Giving<'_>> = pending
        .iter()
        .map(|(channel, device, ip, target, body)| Giving {
            rater: Rater { channel: *channel, device: device.as_ref(), ip: ip.clone() },
            target: target.clone(),
            body: body.clone(),
            at: now,
        })
        .collect();
    // A savepoint that cannot be opened, released or rolled back leaves the transaction in doubt
    // (on PostgreSQL, aborted): nothing of the batch is committed then.
    let mut broken = None;
    // The batch at once, in a savepoint of its own.
    let mut together = None;
    match tx.begin().await {
        Ok(sp) => match record_many(&sp, algo, vault, &rules, &given).await {
            Ok(answers) => match sp.commit().await {
                Ok(()) => together = Some(answers),
                Err(e) => broken = Some(StoreError::from(e)),
            },
            Err(e) => {
                tracing::debug!(error = ?e, ratings = given.len(), "a batch of ratings is recorded one by one");
                if let Err(e) = sp.rollback().await {
                    broken = Some(StoreError::from(e));
                }
            }
        },
        Err(e) => broken = Some(StoreError::from(e)),
    }
    let mut answers = Vec::with_capacity(given.len());
    match together {
        Some(recorded) => {
            for (reply, r) in replies.into_iter().zip(recorded) {
                answers.push((
                    reply,
                    r.map(|m| Some(RatingReceipt { id: m.id, status: m.status, hold_reason: m.hold_reason })),
                ));
            }
        }
        None => {
            for (reply, g) in replies.into_iter().zip(&given) {
                if broken.is_some() {
                    answers.push((reply, Ok(None)));
                    continue;
                }
                let sp = match tx.begin().await {
                    Ok(sp) => sp,
                    Err(e) => {
                        broken = Some(StoreError::from(e));
                        answers.push((reply, Ok(None)));
                        continue;
                    }
                };
                let recorded = match record_many(&sp, algo, vault, &rules, std::slice::from_ref(g)).await {
                    Ok(mut one) => one.pop().unwrap_or(Err(ApiError::Busy)),
                    Err(e) => Err(e),
                };
                let answer = match recorded {
                    Ok(m) => match sp.commit().await {
                        Ok(()) => Ok(Some(RatingReceipt { id: m.id, status: m.status, hold_reason: m.hold_reason })),
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
                };
                answers.push((reply, answer));
            }
        }
    }
    if let Some(e) = broken {
        tracing::error!(error = %e, "a batch of ratings was abandoned");
        drop(tx);
        for (reply, _) in answers {
            let _ = reply.send(Err(lost(&e)));
        }
        return;
    }
    let recorded = started.elapsed();
    let committed = tx.commit().await.map_err(StoreError::from);
    tracing::debug!(
        ratings = size,
        recorded_us = recorded.as_micros() as u64,
        total_us = started.elapsed().as_micros() as u64,
        "rating batch"
    );
    if let Err(e) = &committed {
        tracing::error!(error = %e, ratings = answers.len(), "a batch of ratings could not be committed");
    }
    for (reply, answer) in answers {
        let answer = match (&committed, answer) {
            (Ok(()), Ok(Some(receipt))) => Ok(receipt),
            (Ok(()), Ok(None)) => Err(ApiError::Busy),
            (Ok(()), Err(refused)) => Err(refused),
            // Nothing of the batch is stored. Bad input stays bad; any other refusal may have
            // come from a rating of the batch that is gone (the case "already rated", the limit
            // "reached"), so the rater is asked to send it again.
            (Err(_), Err(ApiError::Validation(errs))) => Err(ApiError::Validation(errs)),
            (Err(e), _) => Err(lost(e)),
        };
        let _ = reply.send(answer);
    }
}
