//! A small deterministic random source (SplitMix64). Jitter and peer order
//! need spread, not secrecy; seeding it from the node's public key gives
//! every node its own sequence, so thousands of nodes that lost the same
//! broker do not retry in lock-step (checkuplink's awk `srand()` seeded from
//! the wall clock and made nodes agree).

#[derive(Debug, Clone)]
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }

    /// A seed from any bytes unique to the node (its public key) mixed with
    /// the boot's own entropy, so a node does not repeat itself after reboot.
    pub fn seed_from(node: &[u8], salt: u64) -> Random {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
        for b in node {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        Random(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        // Multiply-shift keeps the bias far below anything a timer can notice.
        ((u128::from(self.next_u64()) * (u128::from(max) + 1)) >> 64) as u64
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.up_to(i as u64) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_nodes_get_different_sequences_and_one_node_is_reproducible() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Random::seed_from(b"node-a", 0);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Random::seed_from(b"node-b", 0);
                move |_| r.next_u64()
            })
            .collect();
        let a2: Vec<u64> = (0..4)
            .map({
                let mut r = Random::seed_from(b"node-a", 0);
                move |_| r.next_u64()
            })
            .collect();
        assert_ne!(a, b);
        assert_eq!(a, a2);
    }

    #[test]
    fn up_to_stays_in_range_and_covers_it() {
        let mut r = Random::new(7);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let v = r.up_to(5);
            assert!(v <= 5);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
        assert_eq!(r.up_to(0), 0);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Random::new(1);
        let mut v: Vec<u32> = (0..20).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..20).collect::<Vec<_>>());
        v.sort();
        assert_eq!(v, (0..20).collect::<Vec<_>>());
    }
}
