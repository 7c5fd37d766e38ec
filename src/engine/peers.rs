//! The order in which site peers are tried when the broker did not choose a
//! gateway: shuffled per node, each peer once before any repeats, so a dead
//! gateway costs one attempt per round instead of being drawn again and again
//! (checkuplink drew uniformly at random on every run).

use super::ports::Gateway;
use super::random::Random;

#[derive(Debug, Clone)]
pub struct PeerQueue {
    random: Random,
    round: Vec<usize>,
    last: Option<usize>,
    /// Peers that failed since their round began: tried last in the next round.
    failed: Vec<usize>,
}

impl PeerQueue {
    pub fn new(random: Random) -> PeerQueue {
        PeerQueue {
            random,
            round: Vec::new(),
            last: None,
            failed: Vec::new(),
        }
    }

    /// `gateway` failed (no handshake, or declared dead): if it is one of the
    /// site's `peers` (by key, wherever it came from), it goes last next round.
    pub fn failed(&mut self, gateway: &Gateway, peers: &[Gateway]) {
        let index = peers
            .iter()
            .position(|p| p.public_key == gateway.public_key);
        if let Some(index) = index {
            if !self.failed.contains(&index) {
                self.failed.push(index);
            }
        }
    }

    /// The next peer to try, or `None` when the site has none.
    pub fn next<'a>(&mut self, peers: &'a [Gateway]) -> Option<&'a Gateway> {
        if peers.is_empty() {
            return None;
        }
        self.round.retain(|&i| i < peers.len());
        if self.round.is_empty() {
            self.start_round(peers.len());
        }
        let index = self.round.pop()?;
        self.last = Some(index);
        peers.get(index)
    }

    /// Forgets the current round, e.g. when the site's peer list changed.
    pub fn reset(&mut self) {
        self.round.clear();
        self.last = None;
        self.failed.clear();
    }

    fn start_round(&mut self, len: usize) {
        self.round = (0..len).collect();
        self.random.shuffle(&mut self.round);
        // The peer used last should not open the next round.
        if len > 1 && self.round.last() == self.last.as_ref() {
            self.round.swap(0, len - 1);
        }
        // Peers that failed go to the end of the round (popped last), so a
        // dead gateway is not retried while others have not been tried.
        let failed = std::mem::take(&mut self.failed);
        let (mut late, early): (Vec<usize>, Vec<usize>) =
            self.round.iter().partition(|i| failed.contains(i));
        late.extend(early);
        self.round = late;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Endpoint;
    use crate::engine::state::PeerSource;

    fn peers(n: usize) -> Vec<Gateway> {
        (0..n)
            .map(|i| Gateway {
                source: PeerSource::Site,
                name: format!("gw{i}"),
                endpoint: Endpoint::parse(&format!("gw{i}.example:40000")).unwrap(),
                public_key: format!("key{i}"),
                link_address: "fe80::1".parse().unwrap(),
            })
            .collect()
    }

    #[test]
    fn every_peer_is_tried_once_per_round_and_never_twice_in_a_row() {
        let site = peers(4);
        let mut queue = PeerQueue::new(Random::new(7));
        let mut previous = None;
        for _ in 0..25 {
            let mut round: Vec<String> = Vec::new();
            for _ in 0..4 {
                let name = queue.next(&site).unwrap().name.clone();
                assert_ne!(Some(&name), previous.as_ref(), "same peer twice in a row");
                previous = Some(name.clone());
                round.push(name);
            }
            round.sort();
            assert_eq!(round, ["gw0", "gw1", "gw2", "gw3"]);
        }
    }

    #[test]
    fn a_failed_peer_is_tried_last_in_the_next_round() {
        let site = peers(3);
        for seed in 0..20 {
            let mut queue = PeerQueue::new(Random::new(seed));
            let first = queue.next(&site).unwrap().clone();
            queue.failed(&first, &site);
            let first = first.name;
            let rest: Vec<String> = (0..2)
                .map(|_| queue.next(&site).unwrap().name.clone())
                .collect();
            assert!(!rest.contains(&first));
            let next_round: Vec<String> = (0..3)
                .map(|_| queue.next(&site).unwrap().name.clone())
                .collect();
            assert_eq!(next_round[2], first, "seed {seed}: {next_round:?}");
        }
    }

    #[test]
    fn nodes_differ_in_order_and_an_empty_site_gives_none() {
        let site = peers(6);
        let order = |seed| {
            let mut q = PeerQueue::new(Random::new(seed));
            (0..6)
                .map(|_| q.next(&site).unwrap().name.clone())
                .collect::<Vec<_>>()
        };
        assert_ne!(order(1), order(2));
        assert!(PeerQueue::new(Random::new(1)).next(&[]).is_none());
    }

    #[test]
    fn a_shrunken_peer_list_is_respected() {
        let mut queue = PeerQueue::new(Random::new(3));
        queue.next(&peers(5));
        for _ in 0..10 {
            assert!(queue.next(&peers(2)).unwrap().name.as_str() < "gw2");
        }
    }
}
