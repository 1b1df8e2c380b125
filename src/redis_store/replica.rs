//! Each instance's local copy of the markers, so that the check on every guarded request
//! never waits for Redis.
//!
//! - A marker is written locally first, then to Redis by one script ([`MARK`]) that keeps
//!   the later `logged_out_at` and `expires_at`, sets the key's expiry and publishes it, all
//!   at once (Redis runs a script alone).
//! - A background task applies what the channel brings to the local copy, and on every
//!   (re)connect runs SUBSCRIBE → full resync (`SCAN` + `MGET`, merged, never replacing) →
//!   repair (writes back every local marker Redis lacks or holds older, e.g. after a restart
//!   without persistence). SUBSCRIBE comes first: a marker published after it arrives as a
//!   message, one written before it is found by the scan; messages published while the link
//!   was down are lost, hence a resync every time.
//! - While Redis is unreachable, writes skip it at once (`connected` is false) instead of
//!   waiting for reconnects, and the copy keeps answering. Losing the link is logged as an
//!   error, every further 30 s as a warning, the resync as info.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{PushInfo, PushKind, RedisResult, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{hex, unhex, Keys};

/// Keeps the later of the stored and the given marker, sets the expiry and publishes.
/// `KEYS[1]` the marker; `ARGV`: logged_out_at, expires_at, now (Unix seconds), channel, the
/// key's hex digest. Returns 1 when it wrote, 0 when the stored marker covered it already or
/// it has expired. Lua numbers are doubles: Unix seconds are exact in them.
pub(crate) const MARK: &str = r#"
local at, exp = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local cat, cexp = string.match(cur, '^(%-?%d+) (%-?%d+)$')
  cat, cexp = tonumber(cat), tonumber(cexp)
  if cat and cexp then
    if cat >= at and cexp >= exp then return 0 end
    if cat > at then at = cat end
    if cexp > exp then exp = cexp end
  end
end
local ttl = exp - tonumber(ARGV[3])
if ttl <= 0 then return 0 end
local value = string.format('%d %d', at, exp)
redis.call('SET', KEYS[1], value, 'EX', ttl)
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. value)
return 1
"#;

/// How many keys one `SCAN` step asks for, and how many repairs go in one pipeline.
const BATCH: usize = 1000;
/// How often the task pings Redis: it restarts a manager that gave up reconnecting, and
/// notices a hung server.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often "still no Redis" is logged again.
const DOWN_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Where the replica keeps its copy: the crate's in-memory store.
pub(crate) trait LocalMarkers: Send + Sync + 'static {
    /// Merges a marker in (the later `logged_out_at` and `expires_at` win).
    fn apply(&self, key: [u8; 32], logged_out_at: i64, expires_at: i64, now: i64);
    /// Every marker held: `(key, logged_out_at, expires_at)`.
    fn markers(&self) -> Vec<([u8; 32], i64, i64)>;
}

/// What the task has done, for logs, monitoring and the tests.
#[derive(Debug, Default)]
pub(crate) struct Status {
    /// Completed (re)syncs, the first one at launch included.
    pub syncs: AtomicU64,
    /// Markers received on the channel.
    pub messages: AtomicU64,
    /// Times the link was lost.
    pub disconnects: AtomicU64,
    /// Markers written back to Redis by repairs.
    pub repaired: AtomicU64,
}

/// The shared part of one instance's replica.
pub(crate) struct Replica<L> {
    pub(crate) local: Arc<L>,
    manager: ConnectionManager,
    keys: Keys,
    timeout: Duration,
    /// False from a lost link until the next complete resync.
    connected: Arc<AtomicBool>,
    status: Arc<Status>,
    task: tokio::task::JoinHandle<()>,
}

impl<L> Drop for Replica<L> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<L> std::fmt::Debug for Replica<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("keys", &self.keys)
            .field("connected", &self.connected.load(Ordering::Relaxed))
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl<L: LocalMarkers> Replica<L> {
    /// Subscribes, syncs once (so the copy is complete before the app serves), then starts
    /// the task. `url` (without password) is for the logs.
    pub(crate) async fn start(
        local: Arc<L>,
        mut manager: ConnectionManager,
        pushes: UnboundedReceiver<PushInfo>,
        keys: Keys,
        timeout: Duration,
        url: String,
    ) -> RedisResult<Replica<L>> {
        let status = Arc::new(Status::default());
        let (scanned, repaired) = sync(&mut manager, &keys, &*local, &status).await?;
        log::info!(
            "OpenID Connect: revocation markers shared through Redis at {url}: {scanned} read, \
             {repaired} written back"
        );
        let connected = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn(run(Task {
            manager: manager.clone(),
            pushes,
            keys: keys.clone(),
            timeout,
            local: local.clone(),
            connected: connected.clone(),
            status: status.clone(),
            url,
        }));
        Ok(Replica {
            local,
            manager,
            keys,
            timeout,
            connected,
            status,
            task,
        })
    }

    /// Whether the link is up and the copy resynced since the last loss.
    pub(crate) fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// What the task has done.
    pub(crate) fn status(&self) -> &Status {
        &self.status
    }

    /// The manager, for the other operations of the store.
    pub(crate) fn manager(&self) -> &ConnectionManager {
        &self.manager
    }

    /// Writes a marker: into the local copy at once (this instance honours it whatever
    /// happens), then to Redis, bounded by the command timeout and skipped while the link is
    /// down. `Err` says why other instances have not got it yet: the next repair brings it.
    pub(crate) async fn mark(
        &self,
        key: [u8; 32],
        logged_out_at: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), String> {
        self.local.apply(key, logged_out_at, expires_at, now);
        if !self.connected() {
            return Err("Redis is unreachable".into());
        }
        let mut conn = self.manager.clone();
        let cmd = mark_cmd(&self.keys, &key, logged_out_at, expires_at, now);
        let write = cmd.query_async::<i64>(&mut conn);
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("writing the marker failed: {e}")),
            Err(_) => Err(format!(
                "writing the marker took more than {} ms",
                self.timeout.as_millis()
            )),
        }
    }
}

fn mark_cmd(keys: &Keys, key: &[u8; 32], at: i64, exp: i64, now: i64) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(MARK)
        .arg(1)
        .arg(keys.marker(key))
        .arg(at)
        .arg(exp)
        .arg(now)
        .arg(keys.channel())
        .arg(hex(key));
    cmd
}

/// Parses `"<logged_out_at> <expires_at>"`.
fn parse_marker(text: &str) -> Option<(i64, i64)> {
    let (at, exp) = text.split_once(' ')?;
    Some((at.parse().ok()?, exp.parse().ok()?))
}

/// Parses a message: `[channel, "<hex> <logged_out_at> <expires_at>"]`.
fn parse_message(data: &[Value]) -> Option<([u8; 32], i64, i64)> {
    let Value::BulkString(payload) = data.get(1)? else {
        return None;
    };
    let (key, marker) = std::str::from_utf8(payload).ok()?.split_once(' ')?;
    let (at, exp) = parse_marker(marker)?;
    Some((unhex(key)?, at, exp))
}

/// SUBSCRIBE, then every marker in Redis into the local copy, then the local ones Redis
/// lacks (or holds older) back into Redis. Returns (markers read, markers written back).
async fn sync<L: LocalMarkers + ?Sized>(
    conn: &mut ConnectionManager,
    keys: &Keys,
    local: &L,
    status: &Status,
) -> RedisResult<(usize, usize)> {
    conn.subscribe(keys.channel()).await?;
    let now = unix_now();
    let strip = keys.marker_prefix();
    let mut remote: HashMap<[u8; 32], (i64, i64)> = HashMap::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, names): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.marker_pattern())
            .arg("COUNT")
            .arg(BATCH)
            .query_async(conn)
            .await?;
        if !names.is_empty() {
            let values: Vec<Option<String>> =
                redis::cmd("MGET").arg(&names).query_async(conn).await?;
            for (name, value) in names.iter().zip(values) {
                let key = name.strip_prefix(&strip).and_then(unhex);
                if let (Some(key), Some((at, exp))) = (key, value.as_deref().and_then(parse_marker))
                {
                    local.apply(key, at, exp, now);
                    remote.insert(key, (at, exp));
                }
            }
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let missing: Vec<_> = local
        .markers()
        .into_iter()
        .filter(|(key, at, exp)| {
            *exp > now
                && remote
                    .get(key)
                    .is_none_or(|(rat, rexp)| rat < at || rexp < exp)
        })
        .collect();
    let mut repaired = 0;
    for chunk in missing.chunks(BATCH) {
        let mut pipe = redis::pipe();
        for (key, at, exp) in chunk {
            pipe.add_command(mark_cmd(keys, key, *at, *exp, now));
        }
        let written: Vec<i64> = pipe.query_async(conn).await?;
        repaired += written.iter().filter(|w| **w == 1).count();
    }
    status.syncs.fetch_add(1, Ordering::Relaxed);
    status
        .repaired
        .fetch_add(repaired as u64, Ordering::Relaxed);
    Ok((remote.len(), repaired))
}

struct Task<L> {
    manager: ConnectionManager,
    pushes: UnboundedReceiver<PushInfo>,
    keys: Keys,
    timeout: Duration,
    local: Arc<L>,
    connected: Arc<AtomicBool>,
    status: Arc<Status>,
    url: String,
}

/// The background task: messages into the copy; on a lost link (a `Disconnection` push, or
/// a heartbeat without answer) resync until it works.
async fn run<L: LocalMarkers>(mut task: Task<L>) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let reason = loop {
            tokio::select! {
                push = task.pushes.recv() => {
                    let Some(push) = push else { return };
                    match push.kind {
                        PushKind::Message => {
                            if let Some((key, at, exp)) = parse_message(&push.data) {
                                task.local.apply(key, at, exp, unix_now());
                                task.status.messages.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        PushKind::Disconnection => break "the connection was lost".to_owned(),
                        _ => {}
                    }
                }
                _ = heartbeat.tick() => {
                    let cmd = redis::cmd("PING");
                    let ping = cmd.query_async::<Value>(&mut task.manager);
                    match tokio::time::timeout(task.timeout, ping).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => break format!("PING failed: {e}"),
                        Err(_) => break format!(
                            "PING took more than {} ms", task.timeout.as_millis()
                        ),
                    }
                }
            }
        };
        task.connected.store(false, Ordering::Release);
        task.status.disconnects.fetch_add(1, Ordering::Relaxed);
        let lost_at = Instant::now();
        log::error!(
            "OpenID Connect: lost the Redis store at {} ({reason}). This instance keeps \
             refusing signed-out sessions from its local copy ({} markers); logouts it \
             receives now reach the other instances when Redis is back, and refreshes are \
             coordinated within this instance only.",
            task.url,
            task.local.markers().len()
        );
        let mut last_log = Instant::now();
        let mut delay = Duration::from_millis(50);
        loop {
            let bound = task.timeout.saturating_mul(20).max(Duration::from_secs(5));
            let attempt = sync(&mut task.manager, &task.keys, &*task.local, &task.status);
            match tokio::time::timeout(bound, attempt).await {
                Ok(Ok((scanned, repaired))) => {
                    task.connected.store(true, Ordering::Release);
                    log::info!(
                        "OpenID Connect: the Redis store at {} is back after {:.1} s: {scanned} \
                         markers read, {repaired} written back",
                        task.url,
                        lost_at.elapsed().as_secs_f64()
                    );
                    break;
                }
                Ok(Err(e)) if last_log.elapsed() >= DOWN_LOG_INTERVAL => {
                    last_log = Instant::now();
                    log::warn!(
                        "OpenID Connect: the Redis store at {} is still unreachable after {:.0} \
                         s ({e}); serving from the local copy",
                        task.url,
                        lost_at.elapsed().as_secs_f64()
                    );
                }
                _ => {}
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2).min(Duration::from_millis(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_messages_parse_strictly() {
        assert_eq!(parse_marker("100 200"), Some((100, 200)));
        assert_eq!(parse_marker("-5 200"), Some((-5, 200)));
        assert_eq!(parse_marker("100"), None);
        assert_eq!(parse_marker("a b"), None);
        let key = [7u8; 32];
        let payload = format!("{} 100 200", hex(&key));
        let data = [
            Value::BulkString(b"oidc:rev".to_vec()),
            Value::BulkString(payload.into_bytes()),
        ];
        assert_eq!(parse_message(&data), Some((key, 100, 200)));
        assert_eq!(parse_message(&data[..1]), None);
        let bad = [data[0].clone(), Value::BulkString(b"xyz 1 2".to_vec())];
        assert_eq!(parse_message(&bad), None);
    }
}
