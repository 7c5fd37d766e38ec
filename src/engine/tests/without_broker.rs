//! A broker that does not answer: the last gateway, then the site's peers,
//! still know the key; the key is registered again in the background.

use super::*;
use crate::engine::registration::RegistrationPolicy;

/// A node restarted during a broker outage that remembers `gw2`.
fn restarted_without_broker(node: &Node, remembered: Gateway) {
    let mut world = node.world.borrow_mut();
    world.v1 = Err("connection refused".into());
    world.v2 = Err("connection refused".into());
    world.remembered = Some(remembered);
}

#[test]
fn a_working_connection_is_remembered() {
    run(config(false), |node| async move {
        advance(3.0).await;
        let connected = node.world.borrow().connects();
        assert_eq!(
            node.state(),
            State::Connected,
            "{:?}",
            node.world.borrow().calls
        );
        let remembered = node.world.borrow().remembered.clone().expect("remembered");
        assert_eq!([remembered.name], connected[..]);
        assert!(node.snapshot.borrow().broker_registered);
    });
}

#[test]
fn without_the_broker_the_last_gateway_is_connected_within_five_seconds() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Broker));
        advance(5.0).await;
        assert_eq!(node.state(), State::Connected);
        assert!(node.last_entered(State::Connected).unwrap() < Duration::from_secs(5));
        assert_eq!(node.world.borrow().connects(), ["gw2"]);
        let snapshot = node.snapshot.borrow();
        assert!(!snapshot.broker_registered, "no fresh registration");
        let error = snapshot.broker_error.clone().unwrap_or_default();
        assert!(error.contains("connection refused"), "{error}");
        let peer = snapshot.peer.as_ref().unwrap();
        assert_eq!(peer.source, PeerSource::Broker, "as the broker gave it");
    });
}

#[test]
fn the_key_is_registered_in_the_background_without_a_reconnect() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Site));
        advance(5.0).await;
        assert_eq!(node.state(), State::Connected);
        node.world.borrow_mut().v1 = Ok(());
        // The first retry comes within the registration window (1 h).
        advance(3600.0).await;
        let snapshot = node.snapshot.borrow().clone();
        assert!(snapshot.broker_registered, "{snapshot:?}");
        assert_eq!(snapshot.broker_error, None);
        assert_eq!(node.world.borrow().connects(), ["gw2"], "no reconnect");
        assert_eq!(snapshot.reconnects, 0);
        assert_eq!(node.world.borrow().count("teardown"), 0);
        let v1 = node.world.borrow().count("v1");
        assert_eq!(v1, 2, "the failed exchange and one retry");
        advance(3600.0 * 5.0).await;
        assert_eq!(
            node.world.borrow().count("v1"),
            v1,
            "registered: no more requests"
        );
        assert_eq!(node.entered().last(), Some(&State::Connected));
    });
}

/// Connected without the broker, the key is not urgent: no retry at the
/// failed-cycle backoff's pace (5 s doubling to 10 min), but one at a random
/// time within the first hour, then about one an hour.
#[test]
fn background_registration_is_spread_thin_while_the_tunnel_stays_up() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Site));
        advance(3600.0).await;
        // The exchange at connection and exactly one retry in the first hour
        // (the backoff's schedule would have made about 15 by now).
        assert_eq!(node.world.borrow().count("v1"), 2);
        advance(3600.0 * 11.0).await;
        let requests = node.world.borrow().count("v1");
        // Uniform waits up to 2 h after the first: ~11 more in 11 h; the
        // backoff would have made ~100.
        assert!((6..=20).contains(&requests), "{requests} requests in 12 h");
        assert_eq!(node.state(), State::Connected);
        assert_eq!(node.world.borrow().connects(), ["gw2"]);
        assert_eq!(node.world.borrow().count("teardown"), 0);
        assert!(!node.snapshot.borrow().broker_registered);
    });
}

/// The registration window is a setting (UCI `registration_window`): the
/// namespace tests use a short one.
#[test]
fn a_short_registration_window_registers_within_it() {
    let mut settings = config(false);
    settings.settings.registration = RegistrationPolicy::with_window(Duration::from_secs(10));
    run(settings, |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Site));
        advance(5.0).await;
        assert_eq!(node.state(), State::Connected);
        node.world.borrow_mut().v1 = Ok(());
        // A first retry that fell in the first 5 s failed; the next waits up to 20 s.
        advance(25.0).await;
        assert!(node.snapshot.borrow().broker_registered);
        assert_eq!(node.world.borrow().connects(), ["gw2"]);
    });
}

/// Hours of failed registrations do not stretch the failed-cycle backoff:
/// when the gateway dies and nothing handshakes, the first wait is still
/// within the backoff's first 5 s ceiling.
#[test]
fn failed_registrations_leave_the_reconnect_backoff_as_it_was() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Site));
        advance(6.0 * 3600.0).await;
        assert!(node.world.borrow().count("v1") >= 4);
        assert_eq!(node.state(), State::Connected);
        node.world.borrow_mut().alive.clear();
        // ~20 s to declare it dead, 45 s for the three site peers, then backoff.
        advance(120.0).await;
        let states = node.states.borrow().clone();
        let waits: Vec<Duration> = states
            .windows(2)
            .filter(|w| w[0].0 == State::Backoff)
            .map(|w| w[1].1 - w[0].1)
            .collect();
        assert!(!waits.is_empty(), "{states:?}");
        assert!(waits[0] <= Duration::from_secs(5), "{waits:?}");
    });
}

#[test]
fn a_v2_answer_naming_another_gateway_does_not_move_a_healthy_node() {
    run(config(true), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Broker));
        advance(5.0).await;
        node.world.borrow_mut().v2 = Ok(gateway("broker-gw", PeerSource::Broker));
        // The first background retry comes within the registration window.
        advance(3600.0).await;
        let snapshot = node.snapshot.borrow();
        assert!(snapshot.broker_registered);
        assert_eq!(snapshot.broker_api, Some("v2"));
        assert_eq!(node.world.borrow().connects(), ["gw2"]);
        assert_eq!(snapshot.peer.as_ref().unwrap().name, "gw2");
    });
}

#[test]
fn a_dead_last_gateway_is_followed_by_the_site_peers_and_not_tried_twice() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw1", PeerSource::Site));
        node.world.borrow_mut().alive.remove("gw1");
        advance(20.0).await;
        assert_eq!(node.state(), State::Connected);
        let connects = node.world.borrow().connects();
        assert_eq!(connects.len(), 2, "{connects:?}");
        assert_eq!(connects[0], "gw1");
        assert_ne!(connects[1], "gw1", "the last gateway is not tried again");
        assert!(!node.snapshot.borrow().broker_registered);
    });
}

#[test]
fn when_no_gateway_handshakes_the_node_backs_off_as_before() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw1", PeerSource::Site));
        node.world.borrow_mut().alive.clear();
        // The last gateway and the two other site peers, 15 s each.
        advance(46.0).await;
        assert_eq!(node.state(), State::Backoff);
        let connects = node.world.borrow().connects();
        assert_eq!(connects.len(), 3, "{connects:?}");
        let error = node.snapshot.borrow().last_error.clone().unwrap();
        assert!(
            error.starts_with("key exchange failed: connection refused"),
            "{error}"
        );
        assert!(error.contains("no handshake within 15 s"), "{error}");
        assert!(node.snapshot.borrow().next_attempt.is_some());
    });
}

#[test]
fn a_last_gateway_that_died_is_not_tried_first_again() {
    run(config(false), |node| async move {
        restarted_without_broker(&node, gateway("gw2", PeerSource::Site));
        advance(5.0).await;
        assert_eq!(node.state(), State::Connected);
        node.world.borrow_mut().alive.remove("gw2");
        // Three failed checks 5 s apart, then straight to another site peer.
        advance(40.0).await;
        assert_eq!(node.state(), State::Connected);
        let connects = node.world.borrow().connects();
        assert_eq!(connects.len(), 2, "{connects:?}");
        assert_ne!(connects[1], "gw2", "{connects:?}");
        assert_eq!(
            node.world.borrow().remembered.as_ref().unwrap().name,
            connects[1]
        );
    });
}
