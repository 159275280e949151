//! A small, fast pseudo-random generator for sampling decisions.
//!
//! Sampling needs statistical quality, not secrecy: xoshiro128++ passes the
//! usual test batteries, costs a few instructions per number and keeps 16
//! bytes of state. It is seeded from the kernel's random pool so that agents
//! started together do not sample in step.

#[derive(Debug, Clone)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator seeded from `getrandom(2)` (falling back to the clock and
    /// the process id if that fails).
    pub fn from_entropy() -> Rng {
        let mut seed = [0u8; 16];
        if !crate::sys::system::getrandom(&mut seed) {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let mix = t ^ (u128::from(std::process::id()) << 64);
            seed = mix.to_le_bytes();
        }
        Rng::from_seed(u128::from_le_bytes(seed))
    }

    /// A generator with a fixed seed, for reproducible tests.
    pub fn from_seed(seed: u128) -> Rng {
        // Expand the seed with splitmix64 so that similar seeds diverge and
        // the state is never all zeros.
        let mut x = (seed as u64) ^ ((seed >> 64) as u64);
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let (a, b) = (next(), next());
        Rng {
            s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32],
        }
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// A generator of its own, seeded from this one: for a task that keeps
    /// it (a DNS lookup's query ids).
    pub fn fork(&mut self) -> Rng {
        let mut seed = 0u128;
        for _ in 0..4 {
            seed = (seed << 32) | u128::from(self.next_u32());
        }
        Rng::from_seed(seed)
    }

    /// A uniformly distributed index in `0..len` (`len > 0`; lengths
    /// beyond `u32::MAX` are treated as `u32::MAX`).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(u32::try_from(len).unwrap_or(u32::MAX)) as usize
    }

    /// A uniformly distributed number in `0..n` (`n > 0`), without modulo
    /// bias (Lemire's multiply-and-reject method).
    pub fn below(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0);
        let n = n.max(1);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform_enough() {
        let mut rng = Rng::from_seed(42);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[rng.below(10) as usize] += 1;
        }
        // Each bucket expects 10,000 with sigma ~95: allow 5 sigma.
        for c in counts {
            assert!((9_525..=10_475).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn seeds_diverge() {
        let a: Vec<u32> = (0..4).map(|_| Rng::from_seed(1).next_u32()).collect();
        let mut r1 = Rng::from_seed(1);
        let mut r2 = Rng::from_seed(2);
        assert_ne!(r1.next_u32(), r2.next_u32());
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let _ = Rng::from_entropy().next_u32();
    }
}
