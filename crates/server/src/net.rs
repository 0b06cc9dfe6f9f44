//! The client's address: the connection's, or, when the connection comes from a trusted
//! reverse proxy (`PASSGENAU_TRUSTED_PROXIES`), the one the proxies name in
//! `X-Forwarded-For`. The login throttle and the login audit use it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Parses `PASSGENAU_TRUSTED_PROXIES`: comma-separated CIDRs or single addresses.
pub fn parse_trusted_proxies(value: &str) -> Result<Vec<IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("PASSGENAU_TRUSTED_PROXIES: {s:?} is not a CIDR or an address"))
        })
        .collect()
}

/// The address of the client of `req`. `X-Forwarded-For` is read only when the
/// connection comes from a trusted proxy; it is then walked from the right (the hop
/// nearest to us) past further trusted proxies to the first address that is not one.
/// A client cannot choose its address by sending the header itself.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    // each proxy appends the address it saw: read from the right, and stop at the first
    // hop that is not a trusted proxy (what is left of it the client may have written)
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if !is_trusted(&ip) => return ip.to_string(),
            Ok(ip) => nearest = ip,
            Err(_) => break,
        }
    }
    nearest.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn from(peer: &str, xff: Option<&str>, trusted: &str) -> String {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        client_address(&r.to_http_request(), &parse_trusted_proxies(trusted).unwrap())
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        assert_eq!(from("203.0.113.9", Some("10.1.1.1"), "10.0.0.0/8"), "203.0.113.9");
        assert_eq!(
            from("10.0.0.2", Some("198.51.100.7"), "10.0.0.0/8"),
            "198.51.100.7"
        );
        assert_eq!(from("10.0.0.2", None, "10.0.0.0/8"), "10.0.0.2");
        assert_eq!(from("10.0.0.2", Some("198.51.100.7"), ""), "10.0.0.2");
    }

    #[test]
    fn a_client_cannot_prepend_its_own_choice() {
        // the client sent "1.2.3.4"; the proxy appended the address it saw
        assert_eq!(
            from("10.0.0.2", Some("1.2.3.4, 198.51.100.7"), "10.0.0.0/8"),
            "198.51.100.7"
        );
        // two trusted hops
        assert_eq!(
            from("10.0.0.2", Some("198.51.100.7, 10.0.0.3"), "10.0.0.0/8"),
            "198.51.100.7"
        );
        // garbage in the header: the proxy's own address
        assert_eq!(from("10.0.0.2", Some("not-an-ip"), "10.0.0.0/8"), "10.0.0.2");
        // garbage the client wrote left of what the proxy appended is never read
        assert_eq!(
            from("10.0.0.2", Some("x, 198.51.100.7"), "10.0.0.0/8"),
            "198.51.100.7"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(parse_trusted_proxies("10.0.0.0/8, 192.168.1.1").is_ok());
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
    }
}
