//! The 1-in-N sampling decision (sFlow v5 section 3.1 and appendix B).

use crate::rng::Rng;

/// Decides which frames are sampled with a skip counter: after each sample
/// the number of frames until the next one is drawn uniformly from
/// `1..=2N-1`, whose mean is N. Every frame has the same chance, the ratio
/// of frames to samples converges to N, and no periodicity in the traffic
/// can synchronise with the sampling.
#[derive(Debug, Clone)]
pub struct Sampler {
    rate: u32,
    /// Frames until the next sample, counting that one (always >= 1).
    countdown: u32,
    rng: Rng,
}

impl Sampler {
    pub fn new(rate: u32, rng: Rng) -> Sampler {
        let mut s = Sampler {
            rate: rate.max(1),
            countdown: 1,
            rng,
        };
        s.countdown = s.draw();
        s
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    pub fn set_rate(&mut self, rate: u32) {
        self.rate = rate.max(1);
        self.countdown = self.draw();
    }

    fn draw(&mut self) -> u32 {
        match self.rate {
            1 => 1,
            // rate <= 2^24 in configuration; saturate anyway.
            n => 1 + self.rng.below(n.saturating_mul(2) - 1),
        }
    }

    /// Whether the next frame will be sampled. Does not consume it.
    pub fn next_is_sampled(&self) -> bool {
        self.countdown == 1
    }

    /// Consumes one frame; returns whether it was sampled.
    pub fn advance(&mut self) -> bool {
        if self.countdown == 1 {
            self.countdown = self.draw();
            true
        } else {
            self.countdown -= 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rate: u32, frames: u32, seed: u128) -> u32 {
        let mut s = Sampler::new(rate, Rng::from_seed(seed));
        (0..frames)
            .filter(|_| {
                let peek = s.next_is_sampled();
                assert_eq!(peek, s.advance());
                peek
            })
            .count() as u32
    }

    #[test]
    fn rate_one_samples_everything() {
        assert_eq!(count(1, 1000, 7), 1000);
    }

    #[test]
    fn mean_converges_to_the_rate() {
        for rate in [2, 10, 100, 400] {
            let frames = rate * 10_000;
            let n = count(rate, frames, u128::from(rate));
            // Expect 10,000 samples; the uniform skip has less variance than
            // Bernoulli sampling (sigma <= 100): allow 5 sigma.
            assert!((9_500..=10_500).contains(&n), "rate {rate}: {n} samples");
        }
    }

    #[test]
    fn every_skip_length_occurs() {
        // Appendix B: all numbers between the minimum and maximum possible.
        let mut s = Sampler::new(5, Rng::from_seed(3));
        let mut seen = [false; 10];
        let mut gap = 0;
        for _ in 0..10_000 {
            gap += 1;
            if s.advance() {
                seen[gap] = true;
                gap = 0;
            }
        }
        assert_eq!(seen[1..=9], [true; 9]);
        assert!(!seen[0]);
    }
}
