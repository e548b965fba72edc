//! TCP_NODELAY on the PostgreSQL connections, which sqlx 0.9.0 no longer sets.
//!
//! sqlx 0.9.0 dropped the `set_nodelay(true)` its earlier versions made on every TCP socket
//! (launchbadge/sqlx#4335; the fix, #4336, is merged but not released). Without it Nagle's
//! algorithm holds back the tail of a statement longer than one TCP segment until PostgreSQL's
//! delayed ACK fires, 40 ms later. The ingest write path sends exactly such statements (multi-row
//! inserts of a whole batch): with 100 events per batch, `INSERT INTO issue_tag_values` took 47 ms
//! seen from Faultline and under 1 ms seen from PostgreSQL, and the server sat idle at ~300 events/s.
//!
//! sqlx does not hand out its socket, so after each new connection [`set_on_sockets_to`] looks
//! through the process's descriptors for TCP sockets whose peer port is the database's, takes a
//! duplicate of each (`pidfd_getfd`: a second descriptor of the same socket, in safe code) and
//! sets the option on it. A descriptor closed or reused meanwhile is skipped or, if it is another
//! connection to that port, gets the same harmless option. Linux only; elsewhere it does nothing.
//!
//! ```text
//! /proc/self/fd/17 → socket, peer 127.0.0.1:5432 → setsockopt(TCP_NODELAY, 1) on a duplicate
//! ```

/// Set TCP_NODELAY on every TCP socket of this process connected to `port`; returns how many.
#[cfg(target_os = "linux")]
pub fn set_on_sockets_to(port: u16) -> std::io::Result<usize> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let pidfd = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut set = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(entry) = entry else { continue };
        let Some(number) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        // Only sockets: the link reads `socket:[inode]`.
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        let Ok(socket) = pidfd_getfd(&pidfd, number, PidfdGetfdFlags::empty()) else { continue };
        let peer =
            rustix::net::getpeername(&socket).ok().flatten().and_then(|a| std::net::SocketAddr::try_from(a).ok());
        if peer.is_some_and(|p| p.port() == port) && rustix::net::sockopt::set_tcp_nodelay(&socket, true).is_ok() {
            set += 1;
        }
    }
    Ok(set)
}

/// Not Linux: nothing to do here.
#[cfg(not(target_os = "linux"))]
pub fn set_on_sockets_to(_port: u16) -> std::io::Result<usize> {
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn sets_the_option_on_a_connected_socket_and_only_on_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (_accepted, _) = listener.accept().expect("accept");
        assert!(!client.nodelay().expect("getsockopt"));
        assert!(set_on_sockets_to(port).expect("scan") >= 1);
        assert!(
            client.nodelay().expect("getsockopt"),
            "the option is set on the socket itself, not only on the duplicate"
        );

        let other = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let untouched = std::net::TcpStream::connect(other.local_addr().expect("address")).expect("connect");
        set_on_sockets_to(port).expect("scan");
        assert!(!untouched.nodelay().expect("getsockopt"));
    }
}
