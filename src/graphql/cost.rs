//! Rate limits by query cost (SPEC §7), GitHub/Shopify style: each principal
//! has a bucket of points that refills at a steady rate; a query costs its
//! complexity (`graphql::complexity`: a connection costs `first` × its
//! selection) and is refused with `RATE_LIMITED` when the bucket cannot pay.
//! Every response reports `extensions.cost`.

use std::{collections::HashMap, sync::Mutex, time::Instant};

use async_graphql::{ServerError, Value};

/// Buckets of every principal seen recently. One per server; not shared
/// across replicas (each replica grants its own budget).
pub struct CostLimiter {
    maximum: f64,
    restore_per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    available: f64,
    updated: Instant,
}

/// The state of a bucket as `extensions.cost.throttleStatus` reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

impl CostLimiter {
    pub fn new(maximum: u32, restore_per_second: u32) -> Self {
        Self {
            maximum: f64::from(maximum),
            restore_per_second: f64::from(restore_per_second),
            buckets: Mutex::default(),
        }
    }

    /// Takes `cost` points from `key`'s bucket; `Err` (and nothing taken) when
    /// it holds fewer.
    pub fn take(&self, key: &str, cost: f64) -> Result<Throttle, Throttle> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; fail open rather than lock everyone out.
            return Ok(self.throttle(self.maximum));
        };
        if buckets.len() > 10_000 {
            // Forget buckets that refilled completely; they hold no state.
            let (maximum, rate) = (self.maximum, self.restore_per_second);
            buckets.retain(|_, b| {
                b.available + now.duration_since(b.updated).as_secs_f64() * rate < maximum
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            available: self.maximum,
            updated: now,
        });
        let refilled = now.duration_since(bucket.updated).as_secs_f64() * self.restore_per_second;
        bucket.available = (bucket.available + refilled).min(self.maximum);
        bucket.updated = now;
        if bucket.available < cost {
            return Err(self.throttle(bucket.available));
        }
        bucket.available -= cost;
        Ok(self.throttle(bucket.available))
    }

    fn throttle(&self, available: f64) -> Throttle {
        Throttle {
            maximum_available: self.maximum,
            currently_available: available.floor(),
            restore_rate: self.restore_per_second,
        }
    }
}

/// What a request was charged, for its `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Charge {
    cost: usize,
    throttle: Throttle,
}

impl Charge {
    /// `extensions.cost` for the response.
    pub fn report(&self) -> Value {
        cost_value(self.cost, self.cost, self.throttle)
    }
}

impl CostLimiter {
    /// Charges a query of `cost` (at least one point, introspection
    /// included) to `key`'s bucket; the error to answer with when it cannot pay.
    pub fn charge(&self, key: &str, cost: usize) -> Result<Charge, ServerError> {
        let cost = cost.max(1);
        match self.take(key, cost as f64) {
            Ok(throttle) => Ok(Charge { cost, throttle }),
            Err(throttle) => {
                let mut error = crate::error::ApiError::RateLimited(format!(
                    "rate limited: this query costs {cost} points and {} are available; they refill at {} per second",
                    throttle.currently_available, throttle.restore_rate
                ))
                .into_server_error();
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("cost", cost_value(cost, 0, throttle));
                Err(error)
            }
        }
    }
}

fn cost_value(requested: usize, actual: usize, throttle: Throttle) -> Value {
    let number = |n: f64| Value::from(n as i64);
    let mut status = async_graphql::indexmap::IndexMap::new();
    status.insert(
        async_graphql::Name::new("maximumAvailable"),
        number(throttle.maximum_available),
    );
    status.insert(
        async_graphql::Name::new("currentlyAvailable"),
        number(throttle.currently_available),
    );
    status.insert(
        async_graphql::Name::new("restoreRate"),
        number(throttle.restore_rate),
    );
    let mut cost = async_graphql::indexmap::IndexMap::new();
    cost.insert(
        async_graphql::Name::new("requestedQueryCost"),
        Value::from(requested as i64),
    );
    cost.insert(
        async_graphql::Name::new("actualQueryCost"),
        Value::from(actual as i64),
    );
    cost.insert(
        async_graphql::Name::new("throttleStatus"),
        Value::Object(status),
    );
    Value::Object(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_pay_refuse_and_refill() {
        let limiter = CostLimiter::new(100, 1_000_000);
        assert!(limiter.take("a", 60.0).is_ok());
        // A different principal has its own bucket.
        assert!(limiter.take("b", 100.0).is_ok());
        let slow = CostLimiter::new(100, 1);
        assert_eq!(
            slow.take("a", 60.0).map(|t| t.currently_available),
            Ok(40.0)
        );
        let refused = slow.take("a", 60.0);
        assert!(matches!(refused, Err(t) if t.currently_available == 40.0));
        assert!(slow.take("a", 40.0).is_ok(), "a refusal takes nothing");
    }

    #[test]
    fn charges_report_their_cost_and_refusals_say_why() {
        let limiter = CostLimiter::new(10, 1);
        let charge = limiter.charge("a", 0).unwrap();
        let report = charge.report();
        assert!(
            matches!(&report, Value::Object(o) if o.get("requestedQueryCost") == Some(&Value::from(1))),
            "{report}"
        );
        let refused = limiter.charge("a", 50).unwrap_err();
        assert!(
            refused.message.contains("costs 50 points"),
            "{}",
            refused.message
        );
        let code = refused.extensions.and_then(|e| e.get("code").cloned());
        assert_eq!(code, Some(Value::from("RATE_LIMITED")));
    }
}
