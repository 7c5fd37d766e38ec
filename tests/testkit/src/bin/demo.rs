fn main() {
    let bin = std::env::args().nth(1).unwrap();
    let mut site = testkit::site::Site::start(testkit::site::SiteOptions::new(bin)).unwrap();
    site.start_daemon().unwrap();
    eprintln!("node {} wan {} gw {} {}", site.node.name, site.wan.name, site.gateways[0].netns().name, site.gateways[1].netns().name);
    std::thread::sleep(std::time::Duration::from_secs(5));
    eprintln!("pids {} {}", site.gateways[0].daemon.id(), site.gateways[1].daemon.id());
    site.gateways[0].kill();
    site.gateways[1].kill();
    eprintln!("killed");
    std::thread::sleep(std::time::Duration::from_secs(25));
    eprintln!("{}", site.daemon_log());
}
