//! After `connected`: dead gateways, flaky probes, broker outages, WAN loss,
//! reconnect, reload and disable.

use super::*;

fn kill(node: &Node, name: &str) {
    node.world.borrow_mut().alive.remove(name);
}

fn current(node: &Node) -> String {
    node.snapshot.borrow().peer.as_ref().unwrap().name.clone()
}

#[test]
fn a_dead_gateway_is_noticed_within_6_s_and_another_peer_is_used() {
    run(config(false), |node| async move {
        advance(10.0).await;
        let first = current(&node);
        kill(&node, &first);
        advance(20.0).await;
        let states = node.states.borrow().clone();
        let (_, left_at) = states.get(4).unwrap();
        let noticed = *left_at - Duration::from_secs(10);
        // The last OGM was read at most 1 s before the death; silent 5 s
        // after it, with 3 probes unanswered (checkuplink: 60 to 100 s).
        assert!(
            noticed <= Duration::from_secs(6),
            "noticed after {noticed:?}"
        );
        assert!(
            noticed >= Duration::from_secs(4),
            "noticed too early: {noticed:?}"
        );
        assert_eq!(node.world.borrow().probes, 3);
        assert_eq!(node.state(), State::Connected);
        assert_ne!(current(&node), first);
        let snapshot = node.snapshot.borrow();
        assert_eq!(snapshot.reconnects, 1);
        assert!(snapshot.last_error.is_none(), "cleared on success");
    });
}

#[test]
fn traffic_every_second_needs_no_probe() {
    run(config(false), |node| async move {
        let node = node; // whole: keeps the command sender alive
        advance(600.0).await;
        assert_eq!(node.world.borrow().probes, 0);
        assert_eq!(node.world.borrow().connects().len(), 1);
        let checks = node.snapshot.borrow().checks.clone();
        assert!(checks["traffic"].ok, "{checks:?}");
        assert!(!checks.contains_key("http"), "no probe, no result");
    });
}

#[test]
fn without_batman_the_probes_keep_a_quiet_tunnel_checked() {
    run(config(false), |node| async move {
        let node = node; // whole: keeps the command sender alive
        node.world.borrow_mut().gateway_sends = false;
        advance(60.0).await;
        let probes = node.world.borrow().probes;
        // One probe after every 2 s of silence, each answered at once.
        assert!((18..=31).contains(&probes), "{probes} probes in a minute");
        assert_eq!(node.world.borrow().connects().len(), 1, "no reconnect");
        assert!(node.snapshot.borrow().checks["http"].ok);
    });
}

/// Found by the demo: the new connection showed the old one's failures
/// until its own first check.
#[test]
fn a_new_connection_starts_without_the_old_ones_failures() {
    run(config(false), |node| async move {
        advance(3.0).await;
        let first = current(&node);
        kill(&node, &first);
        for _ in 0..400 {
            advance(0.1).await;
            if node.state() == State::Connected && current(&node) != first {
                break;
            }
        }
        assert_ne!(current(&node), first, "failed over");
        assert_eq!(node.snapshot.borrow().consecutive_failures, 0);
    });
}

#[test]
fn a_gateway_back_before_the_last_probe_is_answered_is_kept() {
    run(config(false), |node| async move {
        node.world.borrow_mut().gateway_sends = false;
        advance(3.0).await;
        let gw = current(&node);
        kill(&node, &gw);
        // Long enough for the silence to start the probes, not for all three.
        for _ in 0..100 {
            advance(0.1).await;
            if node
                .world
                .borrow()
                .probe_result
                .as_ref()
                .is_some_and(|r| r.is_err())
            {
                break;
            }
        }
        advance(1.0).await;
        node.world.borrow_mut().alive.insert(gw.clone());
        advance(20.0).await;
        assert_eq!(node.state(), State::Connected);
        assert_eq!(node.world.borrow().connects(), [gw], "no reconnect");
        assert!(node.snapshot.borrow().checks["traffic"].ok);
    });
}

/// The slow layers still count: a handshake that stops renewing (the
/// gateway forgot the peer) is declared dead after 3 failed checks 5 s apart
/// even while traffic keeps the receive counter moving.
#[test]
fn a_stale_handshake_fails_the_layered_check_three_times_then_reconnects() {
    run(config(false), |node| async move {
        advance(3.0).await;
        let gw = current(&node);
        {
            let mut world = node.world.borrow_mut();
            world.handshake_in_connect = true;
            world.last_handshake = Some(Instant::now() - Duration::from_secs(178));
        }
        advance(12.0).await;
        assert_eq!(node.snapshot.borrow().consecutive_failures, 2);
        assert_eq!(node.world.borrow().connects(), [gw]);
        advance(5.0).await;
        assert_eq!(node.world.borrow().connects().len(), 2, "reconnected");
        assert_eq!(node.world.borrow().probes, 0, "traffic never stopped");
    });
}

/// A broker outage where no gateway knows the key (a first boot, or
/// gateways that lost their peers): every cycle fails and backs off.
#[test]
fn a_broker_outage_backs_off_with_growing_jittered_waits_and_recovers() {
    let mut settings = config(false);
    settings.settings.backoff.max = Duration::from_secs(120);
    run(settings, |node| async move {
        node.world.borrow_mut().v1 = Err("connection refused".into());
        let alive = std::mem::take(&mut node.world.borrow_mut().alive);
        advance(600.0).await;
        let requests = node.world.borrow().count("v1");
        // checkuplink: one request a minute (10); full jitter from 5 s doubling
        // to a 120 s cap: more early, few later.
        assert!(
            (4..=40).contains(&requests),
            "{requests} requests in 10 min"
        );
        let waits: Vec<Duration> = backoff_waits(&node);
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(120)));
        assert!(
            waits.iter().any(|w| *w > Duration::from_secs(20)),
            "waits grow: {waits:?}"
        );
        assert_eq!(node.state(), State::Backoff);
        assert!(node.snapshot.borrow().next_attempt.is_some());
        node.world.borrow_mut().v1 = Ok(());
        node.world.borrow_mut().alive = alive;
        advance(130.0).await;
        assert_eq!(node.state(), State::Connected);
        assert!(node.snapshot.borrow().next_attempt.is_none());
    });
}

/// Time spent in each backoff, from the recorded state changes.
fn backoff_waits(node: &Node) -> Vec<Duration> {
    let states = node.states.borrow();
    states
        .windows(2)
        .filter(|w| w[0].0 == State::Backoff)
        .map(|w| w[1].1 - w[0].1)
        .collect()
}

#[test]
fn reconnect_skips_the_backoff_wait_once() {
    // No site peers: without the broker there is no gateway to try.
    let mut no_peers = config(false);
    no_peers.site_peers.clear();
    run(no_peers, |node| async move {
        node.world.borrow_mut().v1 = Err("connection refused".into());
        advance(1.0).await;
        assert_eq!(node.state(), State::Backoff);
        let before = node.world.borrow().count("v1");
        node.send(Command::Reconnect).await;
        advance(0.2).await;
        assert_eq!(
            node.world.borrow().count("v1"),
            before + 1,
            "attempted at once"
        );
        assert_eq!(node.state(), State::Backoff, "and backed off again");
    });
}

#[test]
fn reconnect_while_connected_builds_the_link_again() {
    run(config(false), |node| async move {
        advance(3.0).await;
        node.send(Command::Reconnect).await;
        advance(3.0).await;
        assert_eq!(node.state(), State::Connected);
        assert_eq!(node.world.borrow().connects().len(), 2);
        assert_eq!(node.snapshot.borrow().reconnects, 1);
    });
}

/// Found end to end: a reconnect to the same, working gateway got no new
/// handshake (WireGuard keeps the session) and waited out the timeout.
#[test]
fn reconnect_to_the_same_working_gateway_is_proven_through_the_tunnel() {
    let mut one_peer = config(false);
    one_peer.site_peers.truncate(1);
    run(one_peer, |node| async move {
        node.world.borrow_mut().handshake_in_connect = true;
        advance(3.0).await;
        assert_eq!(node.state(), State::Connected);
        node.send(Command::Reconnect).await;
        advance(1.0).await;
        assert_eq!(node.state(), State::Connected);
        assert_eq!(node.world.borrow().connects(), ["gw1", "gw1"]);
        assert!(node.snapshot.borrow().last_error.is_none());
    });
}

#[test]
fn without_a_wan_route_nothing_is_tried_and_a_new_route_triggers_an_attempt_at_once() {
    run(config(false), |node| async move {
        node.world.borrow_mut().v1 = Err("network unreachable".into());
        advance(1.0).await;
        node.wan.send(false).unwrap();
        advance(0.1).await;
        assert_eq!(node.state(), State::NoUplink);
        let requests = node.world.borrow().count("v1");
        advance(3600.0).await;
        assert_eq!(
            node.world.borrow().count("v1"),
            requests,
            "silent while no WAN"
        );
        node.world.borrow_mut().v1 = Ok(());
        node.wan.send(true).unwrap();
        advance(2.0).await;
        assert_eq!(node.state(), State::Connected);
    });
}

#[test]
fn disabling_tears_down_and_enabling_connects_again() {
    run(config(false), |node| async move {
        advance(3.0).await;
        let mut off = config(false);
        off.enabled = false;
        node.send(Command::Reload(off)).await;
        advance(0.1).await;
        assert_eq!(node.state(), State::Disabled);
        assert!(node.world.borrow().connected.is_none());
        assert!(node.snapshot.borrow().peer.is_none());
        node.send(Command::Reload(config(false))).await;
        advance(3.0).await;
        assert_eq!(node.state(), State::Connected);
    });
}

#[test]
fn a_reload_reconnects_only_when_something_relevant_changed() {
    run(config(false), |node| async move {
        advance(3.0).await;
        let mut same = config(false);
        same.settings.failures_before_reconnect = 5;
        node.send(Command::Reload(same)).await;
        advance(3.0).await;
        assert_eq!(
            node.world.borrow().connects().len(),
            1,
            "tunable only: no reconnect"
        );
        let mut fewer_peers = config(false);
        fewer_peers.site_peers.truncate(1);
        node.send(Command::Reload(fewer_peers)).await;
        advance(3.0).await;
        assert_eq!(node.world.borrow().connects().len(), 2);
        assert_eq!(current(&node), "gw1");
    });
}

#[test]
fn switching_loadbalancing_on_reconnects_through_v2() {
    run(config(false), |node| async move {
        node.world.borrow_mut().v2 = Ok(gateway("broker-gw", PeerSource::Broker));
        advance(3.0).await;
        node.send(Command::Loadbalancing(false)).await;
        advance(3.0).await;
        assert_eq!(
            node.world.borrow().count("v2"),
            0,
            "unchanged: nothing to do"
        );
        node.send(Command::Loadbalancing(true)).await;
        advance(3.0).await;
        assert_eq!(node.world.borrow().count("v2"), 1);
        assert_eq!(current(&node), "broker-gw");
    });
}

/// Found in the kernel lab: a gateway killed right after the handshake left
/// a link that never carried a byte, and the failover waited in backoff.
#[test]
fn a_gateway_dead_right_after_its_handshake_fails_over_at_once() {
    run(config(false), |node| async move {
        for _ in 0..100 {
            advance(0.05).await;
            if node.state() == State::Connected {
                break;
            }
        }
        let first = current(&node);
        kill(&node, &first);
        advance(12.0).await;
        assert_eq!(node.state(), State::Connected);
        assert_ne!(current(&node), first);
        assert!(
            !node.entered().contains(&State::Backoff),
            "{:?}",
            node.entered()
        );
    });
}
