//! A quantile sketch in bounded memory: exact below [`EXACT`], and above
//! it logarithmic buckets that each span 1% (a quantile read from it is
//! within 1% of the true value at that rank). Counts only add, so merging
//! the sketches of two parts of a file gives the sketch of the whole,
//! whatever the split: results do not depend on the number of threads.
//!
//! Size: at most `EXACT` small counters plus ~2,200 buckets for the whole
//! `u64` range, allocated as values arrive.

/// Values below this are counted exactly, one counter each.
pub const EXACT: u64 = 1024;

/// The ratio between two bucket bounds: 1.01 (1% relative accuracy: a
/// bucket's midpoint is within 0.5% of anything in it).
const GAMMA: f64 = 1.01;

/// Min, max, sum, count and quantiles of a stream of `u64`s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
    small: Vec<u64>,
    large: Vec<u64>,
}

fn bucket(v: u64) -> usize {
    // v >= EXACT: index of the bucket [EXACT*GAMMA^i, EXACT*GAMMA^(i+1)).
    ((v as f64 / EXACT as f64).ln() / GAMMA.ln()) as usize
}

fn bucket_mid(i: usize) -> u64 {
    let lo = EXACT as f64 * GAMMA.powi(i as i32);
    (lo * (1.0 + GAMMA) / 2.0).round() as u64
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Sketch {
        Sketch::default()
    }

    /// Counts one value.
    pub fn add(&mut self, v: u64) {
        if self.count == 0 || v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
        self.count += 1;
        self.sum += v as u128;
        if v < EXACT {
            let i = v as usize;
            if self.small.len() <= i {
                self.small.resize(i + 1, 0);
            }
            self.small[i] += 1;
        } else {
            let i = bucket(v);
            if self.large.len() <= i {
                self.large.resize(i + 1, 0);
            }
            self.large[i] += 1;
        }
    }

    /// Adds everything `other` counted.
    pub fn merge(&mut self, other: &Sketch) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 || other.min < self.min {
            self.min = other.min;
        }
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
        for (dst, src) in [
            (&mut self.small, &other.small),
            (&mut self.large, &other.large),
        ] {
            if dst.len() < src.len() {
                dst.resize(src.len(), 0);
            }
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        }
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their sum.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The smallest (0 when empty).
    pub fn min(&self) -> u64 {
        self.min
    }

    /// The largest (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (0..=1): the smallest value with at least
    /// `ceil(q * count)` values at or below it; exact below [`EXACT`],
    /// within 1% above. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        if rank >= self.count {
            return self.max;
        }
        if rank == 1 {
            return self.min;
        }
        let mut seen = 0u64;
        for (v, &n) in self.small.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return v as u64;
            }
        }
        for (i, &n) in self.large.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_mid(i).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_threshold_and_within_one_percent_above() {
        let mut s = Sketch::new();
        for v in 1..=1000u64 {
            s.add(v);
        }
        assert_eq!(s.quantile(0.5), 500);
        assert_eq!(s.quantile(0.9), 900);
        assert_eq!(s.quantile(1.0), 1000);
        assert_eq!(s.min(), 1);
        let mut big = Sketch::new();
        let vals: Vec<u64> = (0..10_000u64).map(|i| 5_000 + i * 977).collect();
        for &v in &vals {
            big.add(v);
        }
        for q in [0.01, 0.5, 0.9, 0.99] {
            let want = vals[((q * vals.len() as f64).ceil() as usize).max(1) - 1] as f64;
            let got = big.quantile(q) as f64;
            assert!(
                (got - want).abs() / want <= 0.01,
                "q={q} got {got} want {want}"
            );
        }
    }

    #[test]
    fn merge_is_split_independent() {
        let vals: Vec<u64> = (0..5000u64).map(|i| (i * 7919) % 100_003).collect();
        let mut whole = Sketch::new();
        vals.iter().for_each(|&v| whole.add(v));
        let (a, b) = vals.split_at(1234);
        let mut x = Sketch::new();
        let mut y = Sketch::new();
        a.iter().for_each(|&v| x.add(v));
        b.iter().for_each(|&v| y.add(v));
        y.merge(&x);
        assert_eq!(y.quantile(0.5), whole.quantile(0.5));
        assert_eq!(y.count(), whole.count());
        assert_eq!(y.sum(), whole.sum());
        assert_eq!(y.min(), whole.min());
    }

    #[test]
    fn extremes_do_not_panic() {
        let mut s = Sketch::new();
        s.add(u64::MAX);
        s.add(0);
        assert_eq!(s.quantile(1.0), u64::MAX);
        assert_eq!(s.quantile(0.0), 0);
    }
}
