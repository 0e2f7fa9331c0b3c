//! Database connection strings around a password: URIs (`postgres://user:pw@host/db`),
//! JDBC URLs (query, SQL Server `;prop=` and Oracle thin forms) and ADO.NET key=value
//! strings; and their credential-less form pointing at a local gateway tunnel.
//!
//! Owns: finding the whole connection string that holds a detected password, reading its
//! target (protocol, host, port, database, user) and rewriting it to
//! `noop:noop@127.0.0.1:<port>` with every other character kept. Does not own: deciding
//! whether a tunnel fits (see `decide`) or naming the connection (see `naming`).

use crate::text::percent_decode;
use unleak_core::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum DbProtocol {
    Postgres,
    Mysql,
    Mssql,
    Mongo,
    Oracle,
    Redis,
    Amqp,
}

impl DbProtocol {
    /// The short name used in connection names.
    pub(crate) fn short(self) -> &'static str {
        match self {
            DbProtocol::Postgres => "pg",
            DbProtocol::Mysql => "mysql",
            DbProtocol::Mssql => "mssql",
            DbProtocol::Mongo => "mongo",
            DbProtocol::Oracle => "oracle",
            DbProtocol::Redis => "redis",
            DbProtocol::Amqp => "amqp",
        }
    }

    /// hoop's `type/subtype`, or `None` where hoop injects no credential (redis, amqp:
    /// `application/tcp` only forwards bytes).
    pub(crate) fn hoop_type(self) -> Option<&'static str> {
        match self {
            DbProtocol::Postgres => Some("database/postgres"),
            DbProtocol::Mysql => Some("database/mysql"),
            DbProtocol::Mssql => Some("database/mssql"),
            DbProtocol::Mongo => Some("database/mongodb"),
            DbProtocol::Oracle => Some("database/oracledb"),
            DbProtocol::Redis | DbProtocol::Amqp => None,
        }
    }

    pub(crate) fn default_port(self) -> u16 {
        match self {
            DbProtocol::Postgres => 5432,
            DbProtocol::Mysql => 3306,
            DbProtocol::Mssql => 1433,
            DbProtocol::Mongo => 27017,
            DbProtocol::Oracle => 1521,
            DbProtocol::Redis => 6379,
            DbProtocol::Amqp => 5672,
        }
    }

    /// The port `hoop connect` listens on by default for this protocol.
    pub(crate) fn tunnel_port(self) -> u16 {
        match self {
            DbProtocol::Postgres => 5433,
            DbProtocol::Mysql => 3307,
            DbProtocol::Mssql => 1444,
            DbProtocol::Mongo => 27018,
            DbProtocol::Oracle => 15211,
            DbProtocol::Redis | DbProtocol::Amqp => 8999,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `scheme://user:password@host[:port][,host…]/db?params`
    Uri,
    /// `jdbc:postgresql://host/db?user=…&password=…` (also MySQL / MariaDB).
    JdbcQuery,
    /// `jdbc:sqlserver://host:port;user=…;password=…`
    JdbcSqlServer,
    /// `jdbc:oracle:thin:user/password@host:port/service`
    JdbcOracle,
    /// `Server=host,port;User ID=…;Password=…` (ADO.NET, ODBC, Npgsql).
    Ado,
}

/// A connection string and where its parts sit in the file.
#[derive(Clone, Debug)]
pub(crate) struct ConnString {
    /// The whole connection string.
    pub span: Span,
    pub form: Form,
    pub protocol: DbProtocol,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub db: Option<String>,
    /// hoop's `SSLMODE` for the string's `sslmode` (see [`hoop_sslmode`]).
    pub sslmode: Option<String>,
    /// Why `sslmode` is not the mode as written, for the plan's warnings.
    pub sslmode_note: Option<String>,
    /// The password is percent-encoded (URIs and JDBC query strings).
    pub percent_encoded: bool,
    /// Edits (absolute spans) that turn the string credential-less; the host part is
    /// filled in with the tunnel port by [`ConnString::credential_less`].
    user_span: Option<Span>,
    password: Span,
    hosts: Span,
    /// ADO `Host=` strings without a `Port=` key get one appended after the host.
    ado_port: AdoPort,
    drop_params: Vec<Span>,
    scheme_fix: Option<(Span, &'static str)>,
    /// MongoDB: the query is replaced (or added) as `directConnection=true`.
    mongo_query: Option<MongoQuery>,
}

#[derive(Clone, Copy, Debug)]
enum AdoPort {
    NotAdo,
    /// `Server=host,port` carries the port in the host value.
    InServer,
    /// `Host=` with a separate `Port=` value.
    Separate(Span),
    /// `Host=` without a port key.
    Missing,
}

#[derive(Clone, Copy, Debug)]
enum MongoQuery {
    Replace(Span),
    /// Insert at this offset; `true` when a `/` path must be added first.
    Insert(usize, bool),
}

impl ConnString {
    pub(crate) fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.protocol.default_port())
    }

    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost") || h == "::1" || h.starts_with("127.") || h == "0.0.0.0"
    }

    /// The edits that make the string reach the local tunnel on `port` as `noop`/`noop`:
    /// user, password and host (plus dropped TLS parameters, and MongoDB's scheme and
    /// query); every other character stays.
    pub(crate) fn credential_less_edits(&self, port: u16) -> Vec<(Span, String)> {
        let mut edits: Vec<(Span, String)> = Vec::new();
        if let Some(u) = self.user_span {
            edits.push((u, "noop".into()));
        }
        edits.push((self.password, "noop".into()));
        let host = match (self.form, self.ado_port) {
            (Form::Ado, AdoPort::InServer) => format!("127.0.0.1,{port}"),
            (Form::Ado, AdoPort::Separate(p)) => {
                edits.push((p, port.to_string()));
                "127.0.0.1".into()
            }
            (Form::Ado, AdoPort::Missing) => format!("127.0.0.1;Port={port}"),
            _ => format!("127.0.0.1:{port}"),
        };
        edits.push((self.hosts, host));
        for d in &self.drop_params {
            edits.push((*d, String::new()));
        }
        if let Some((s, fixed)) = self.scheme_fix {
            edits.push((s, fixed.into()));
        }
        match self.mongo_query {
            Some(MongoQuery::Replace(q)) => edits.push((q, "directConnection=true".into())),
            Some(MongoQuery::Insert(at, slash)) => edits.push((
                Span::new(at, at),
                format!("{}?directConnection=true", if slash { "/" } else { "" }),
            )),
            None => {}
        }
        edits.sort_by_key(|(s, _)| (s.start, s.end));
        edits
    }

    /// The whole connection string after [`ConnString::credential_less_edits`].
    #[cfg(test)]
    pub(crate) fn credential_less(&self, data: &[u8], port: u16) -> String {
        let mut out = Vec::new();
        let mut pos = self.span.start;
        for (s, text) in self.credential_less_edits(port) {
            out.extend_from_slice(&data[pos..s.start]);
            out.extend_from_slice(text.as_bytes());
            pos = s.end;
        }
        out.extend_from_slice(&data[pos..self.span.end]);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn is_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
}

fn line_bounds(data: &[u8], at: usize) -> (usize, usize) {
    let start = data[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|b| *b == b'\n' || *b == b'\r')
        .map_or(data.len(), |i| at + i);
    (start, end)
}

/// Where the next connection string on the line starts after `from` (its `jdbc:` or its
/// scheme before `://`), else `le`. A list of URLs without spaces (`url1,url2`, a
/// failover list) must not read as one string whose database name or parameters hold the
/// next one's password: that name would go into the plan and the gateway manifests.
fn next_connection_start(data: &[u8], from: usize, le: usize) -> usize {
    let line = &data[from..le];
    let jdbc = line
        .windows(5)
        .position(|w| w.eq_ignore_ascii_case(b"jdbc:"))
        .map(|i| from + i);
    let uri = line.windows(3).position(|w| w == b"://").map(|i| {
        let mut s = from + i;
        while s > from
            && (data[s - 1].is_ascii_alphanumeric() || matches!(data[s - 1], b'+' | b'.' | b'-'))
        {
            s -= 1;
        }
        s
    });
    [jdbc, uri].into_iter().flatten().min().unwrap_or(le)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
}

fn text(data: &[u8], s: Span) -> String {
    String::from_utf8_lossy(&data[s.start..s.end]).into_owned()
}

fn decoded(data: &[u8], s: Span) -> String {
    String::from_utf8_lossy(&percent_decode(&data[s.start..s.end])).into_owned()
}

/// The connection string whose password is `secret`, if the secret is one.
pub(crate) fn parse(data: &[u8], secret: Span) -> Option<ConnString> {
    if secret.is_empty() || secret.end > data.len() {
        return None;
    }
    let (ls, le) = line_bounds(data, secret.start);
    if secret.end > le {
        return None;
    }
    let le = next_connection_start(data, secret.end, le);
    let before = &data[ls..secret.start];
    if let Some(i) = rfind(before, b"jdbc:oracle:thin:") {
        return parse_oracle(data, ls + i, secret, le);
    }
    if let Some(i) = rfind(before, b"jdbc:sqlserver:") {
        return parse_sqlserver(data, ls + i, secret, le);
    }
    if let Some(i) = rfind(before, b"://") {
        return parse_uri(data, ls, ls + i, secret, le);
    }
    parse_ado(data, ls, secret, le)
}

fn protocol_of(scheme: &str) -> Option<DbProtocol> {
    let base = scheme.split('+').next().unwrap_or(scheme);
    Some(match base {
        "postgres" | "postgresql" => DbProtocol::Postgres,
        "mysql" | "mysqlx" | "mariadb" => DbProtocol::Mysql,
        "sqlserver" | "mssql" => DbProtocol::Mssql,
        "mongodb" => DbProtocol::Mongo,
        "redis" | "rediss" => DbProtocol::Redis,
        "amqp" | "amqps" => DbProtocol::Amqp,
        _ => return None,
    })
}

fn parse_uri(data: &[u8], ls: usize, sep: usize, secret: Span, le: usize) -> Option<ConnString> {
    let mut s = sep;
    while s > ls
        && (data[s - 1].is_ascii_alphanumeric() || matches!(data[s - 1], b'+' | b'.' | b'-'))
    {
        s -= 1;
    }
    let jdbc = s >= ls + 5 && data[s - 5..s].eq_ignore_ascii_case(b"jdbc:");
    let start = if jdbc { s - 5 } else { s };
    let scheme = String::from_utf8_lossy(&data[s..sep]).to_ascii_lowercase();
    let protocol = protocol_of(&scheme)?;
    let auth = sep + 3;
    let mut end = secret.end;
    while end < le && !is_end(data[end]) {
        end += 1;
    }
    let in_userinfo = secret.start > auth
        && data[secret.start - 1] == b':'
        && data.get(secret.end) == Some(&b'@');
    if !in_userinfo {
        if jdbc && matches!(protocol, DbProtocol::Postgres | DbProtocol::Mysql) {
            return parse_jdbc_query(data, start, auth, secret, end, protocol);
        }
        return None;
    }
    let user_span = Span::new(auth, secret.start - 1);
    if data[user_span.start..user_span.end]
        .iter()
        .any(|b| matches!(b, b'/' | b'@' | b'?'))
    {
        return None;
    }
    let hosts_start = secret.end + 1;
    let hosts_end = (hosts_start..end)
        .find(|&i| matches!(data[i], b'/' | b'?' | b'#'))
        .unwrap_or(end);
    let hosts = Span::new(hosts_start, hosts_end);
    let (host, port) = split_host_port(&text(data, hosts))?;
    let (path, query) = path_and_query(data, hosts_end, end);
    let db = path
        .map(|p| decoded(data, Span::new(p.start + 1, p.end)))
        .filter(|d| is_db_name(d));
    let params = query.map(|q| params(data, q, b'&')).unwrap_or_default();
    // `sqlserver://host:1433?database=erp`: SQL Server URIs name the database in the query.
    let db = db.or_else(|| {
        (protocol == DbProtocol::Mssql)
            .then(|| {
                params
                    .iter()
                    .find(|p| {
                        p.key.eq_ignore_ascii_case("database")
                            || p.key.eq_ignore_ascii_case("databaseName")
                    })
                    .map(|p| decoded(data, p.value))
            })
            .flatten()
            .filter(|d| is_db_name(d))
    });
    let (mut sslmode, mut sslmode_note) = (None, None);
    let mut drop_params = Vec::new();
    if protocol == DbProtocol::Postgres {
        // The local tunnel speaks plain TCP on loopback; TLS settings belong to the
        // gateway's upstream connection (SSLMODE), not to the client.
        for p in &params {
            if p.key.eq_ignore_ascii_case("sslmode") {
                (sslmode, sslmode_note) = hoop_sslmode(&text(data, p.value));
                drop_params.push(p.removal);
            }
        }
        if let (Some(q), false) = (query, drop_params.is_empty()) {
            if drop_params.len() == params.len() {
                drop_params = vec![Span::new(q.start - 1, q.end)];
            }
        }
    }
    let scheme_fix = (scheme == "mongodb+srv").then(|| (Span::new(s, sep), "mongodb"));
    let mongo_query = (protocol == DbProtocol::Mongo).then_some(match (path, query) {
        (_, Some(q)) => MongoQuery::Replace(q),
        (Some(p), None) => MongoQuery::Insert(p.end, false),
        (None, None) => MongoQuery::Insert(hosts_end, true),
    });
    Some(ConnString {
        span: Span::new(start, end),
        form: Form::Uri,
        protocol,
        user: Some(decoded(data, user_span)).filter(|u| !u.is_empty()),
        host,
        port,
        db,
        sslmode,
        sslmode_note,
        percent_encoded: true,
        user_span: (!user_span.is_empty()).then_some(user_span),
        password: secret,
        hosts,
        ado_port: AdoPort::NotAdo,
        drop_params,
        scheme_fix,
        mongo_query,
    })
}

/// hoop's `SSLMODE` for a libpq `sslmode`, and a note when they differ. hoop accepts
/// `disable`, `prefer`, `require` and `verify-full` and falls back to `prefer` otherwise
/// (agent/controller/agent.go), so dropping `verify-ca` would downgrade TLS: it becomes
/// `verify-full`, which checks the chain as `verify-ca` does and the host name too.
fn hoop_sslmode(v: &str) -> (Option<String>, Option<String>) {
    match v {
        "disable" | "prefer" | "require" | "verify-full" => (Some(v.to_string()), None),
        "verify-ca" => (
            Some("verify-full".into()),
            Some("sslmode=verify-ca is set as SSLMODE=verify-full (hoop has no verify-ca); verify-full also checks that the server certificate names the host, so check it does".into()),
        ),
        "allow" => (
            Some("prefer".into()),
            Some("sslmode=allow is set as SSLMODE=prefer (hoop has no allow)".into()),
        ),
        other => (
            None,
            Some(format!(
                "sslmode={} is not a mode hoop knows; it falls back to prefer, so set SSLMODE by hand",
                crate::text::printable(other)
            )),
        ),
    }
}

fn path_and_query(data: &[u8], from: usize, end: usize) -> (Option<Span>, Option<Span>) {
    let frag = (from..end).find(|&i| data[i] == b'#').unwrap_or(end);
    let q = (from..frag).find(|&i| data[i] == b'?');
    let path = (from < frag && data[from] == b'/').then(|| Span::new(from, q.unwrap_or(frag)));
    let query = q.map(|q| Span::new(q + 1, frag));
    (path, query)
}

struct Param {
    key: String,
    value: Span,
    /// The parameter with one separator, so deleting it leaves a well-formed list.
    removal: Span,
}

fn params(data: &[u8], q: Span, sep: u8) -> Vec<Param> {
    let mut out = Vec::new();
    let mut start = q.start;
    while start <= q.end {
        let end = (start..q.end).find(|&i| data[i] == sep).unwrap_or(q.end);
        if end > start {
            let seg = Span::new(start, end);
            let eq = (start..end).find(|&i| data[i] == b'=');
            let (key, value) = match eq {
                Some(e) => (text(data, Span::new(start, e)), Span::new(e + 1, end)),
                None => (text(data, seg), Span::new(end, end)),
            };
            let removal = if end < q.end {
                Span::new(start, end + 1)
            } else if start > q.start {
                Span::new(start - 1, end)
            } else {
                seg
            };
            out.push(Param {
                key: key.trim().to_string(),
                value,
                removal,
            });
        }
        start = end + 1;
    }
    out
}

/// Whether `name` reads as a database, schema or service name. Anything else (text run
/// on from what follows the connection string, another secret included) is not one, and
/// must not go into the plan as one.
fn is_db_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.$#~ ".contains(&b))
}

fn split_host_port(hosts: &str) -> Option<(String, Option<u16>)> {
    // Host names, IP addresses (IPv6 in brackets, with a zone), ports and `,` between
    // hosts; anything else means this is not a host list, and reading it as one could put
    // the text that follows, another secret included, into the plan as a host name.
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || b".-_:[]%,".contains(&b);
    if !hosts.bytes().all(host_byte) {
        return None;
    }
    let first = hosts.split(',').next()?;
    if first.is_empty() {
        return None;
    }
    if let Some(rest) = first.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((h.to_string(), port));
    }
    match first.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok())),
        None => Some((first.to_string(), None)),
    }
}

fn parse_jdbc_query(
    data: &[u8],
    start: usize,
    auth: usize,
    secret: Span,
    end: usize,
    protocol: DbProtocol,
) -> Option<ConnString> {
    let hosts_end = (auth..end)
        .find(|&i| matches!(data[i], b'/' | b'?'))
        .unwrap_or(end);
    let hosts = Span::new(auth, hosts_end);
    let (host, port) = split_host_port(&text(data, hosts))?;
    let (path, query) = path_and_query(data, hosts_end, end);
    let query = query?;
    let ps = params(data, query, b'&');
    let pw = ps
        .iter()
        .find(|p| p.value == secret && p.key.eq_ignore_ascii_case("password"))?;
    let _ = pw;
    let user_param = ps.iter().find(|p| p.key.eq_ignore_ascii_case("user"));
    let mut drop_params = Vec::new();
    let (mut sslmode, mut sslmode_note) = (None, None);
    if protocol == DbProtocol::Postgres {
        for p in &ps {
            if p.key.eq_ignore_ascii_case("sslmode") {
                (sslmode, sslmode_note) = hoop_sslmode(&text(data, p.value));
            }
            if p.key.eq_ignore_ascii_case("sslmode") || p.key.eq_ignore_ascii_case("ssl") {
                drop_params.push(p.removal);
            }
        }
    }
    Some(ConnString {
        span: Span::new(start, end),
        form: Form::JdbcQuery,
        protocol,
        user: user_param.map(|p| decoded(data, p.value)),
        host,
        port,
        db: path
            .map(|p| decoded(data, Span::new(p.start + 1, p.end)))
            .filter(|d| is_db_name(d)),
        sslmode,
        sslmode_note,
        percent_encoded: true,
        user_span: user_param.map(|p| p.value),
        password: secret,
        hosts,
        ado_port: AdoPort::NotAdo,
        drop_params,
        scheme_fix: None,
        mongo_query: None,
    })
}

fn parse_sqlserver(data: &[u8], start: usize, secret: Span, le: usize) -> Option<ConnString> {
    let slashes = (start..secret.start).find(|&i| data[i..].starts_with(b"//"))? + 2;
    let mut end = secret.end;
    while end < le && !is_end(data[end]) {
        end += 1;
    }
    let hosts_end = (slashes..end).find(|&i| data[i] == b';').unwrap_or(end);
    let hosts = Span::new(slashes, hosts_end);
    let raw = text(data, hosts);
    let no_instance = raw.split('\\').next().unwrap_or(&raw).to_string();
    let (host, mut port) = split_host_port(&no_instance)?;
    if port.is_none() {
        port = raw.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
    }
    let props = params(data, Span::new(hosts_end.min(end), end), b';');
    let key_is = |p: &&Param, names: &[&str]| names.iter().any(|n| p.key.eq_ignore_ascii_case(n));
    props
        .iter()
        .find(|p| p.value == secret && key_is(p, &["password", "pwd"]))?;
    let user = props
        .iter()
        .find(|p| key_is(p, &["user", "username", "userName"]));
    let db = props
        .iter()
        .find(|p| key_is(p, &["databaseName", "database"]))
        .map(|p| text(data, p.value))
        .filter(|d| is_db_name(d));
    Some(ConnString {
        span: Span::new(start, end),
        form: Form::JdbcSqlServer,
        protocol: DbProtocol::Mssql,
        user: user.map(|p| text(data, p.value)),
        host,
        port,
        db,
        sslmode: None,
        sslmode_note: None,
        percent_encoded: false,
        user_span: user.map(|p| p.value),
        password: secret,
        hosts,
        ado_port: AdoPort::NotAdo,
        drop_params: Vec::new(),
        scheme_fix: None,
        mongo_query: None,
    })
}

fn parse_oracle(data: &[u8], start: usize, secret: Span, le: usize) -> Option<ConnString> {
    let user_start = start + b"jdbc:oracle:thin:".len();
    if secret.start <= user_start
        || data[secret.start - 1] != b'/'
        || data.get(secret.end) != Some(&b'@')
    {
        return None;
    }
    let user_span = Span::new(user_start, secret.start - 1);
    let mut end = secret.end;
    while end < le && !is_end(data[end]) {
        end += 1;
    }
    let mut h = secret.end + 1;
    if data[h..end].starts_with(b"//") {
        h += 2;
    }
    let host_end = (h..end)
        .find(|&i| matches!(data[i], b':' | b'/' | b'?'))
        .unwrap_or(end);
    let host = text(data, Span::new(h, host_end));
    split_host_port(&host)?;
    let mut hosts_end = host_end;
    let mut port = None;
    if host_end < end && data[host_end] == b':' {
        let digits_end = (host_end + 1..end)
            .find(|&i| !data[i].is_ascii_digit())
            .unwrap_or(end);
        port = text(data, Span::new(host_end + 1, digits_end)).parse().ok();
        if port.is_some() {
            hosts_end = digits_end;
        }
    }
    let db = (hosts_end < end && matches!(data[hosts_end], b'/' | b':'))
        .then(|| text(data, Span::new(hosts_end + 1, end)))
        .filter(|d| is_db_name(d));
    Some(ConnString {
        span: Span::new(start, end),
        form: Form::JdbcOracle,
        protocol: DbProtocol::Oracle,
        user: Some(text(data, user_span)),
        host,
        port,
        db,
        sslmode: None,
        sslmode_note: None,
        percent_encoded: false,
        user_span: Some(user_span),
        password: secret,
        hosts: Span::new(h, hosts_end),
        ado_port: AdoPort::NotAdo,
        drop_params: Vec::new(),
        scheme_fix: None,
        mongo_query: None,
    })
}

fn parse_ado(data: &[u8], ls: usize, secret: Span, le: usize) -> Option<ConnString> {
    let quote = data[ls..secret.start]
        .iter()
        .rposition(|b| matches!(b, b'"' | b'\''))
        .map(|i| ls + i);
    let mut start = quote.map_or(ls, |q| q + 1);
    if quote.is_none() {
        // Unquoted (`ConnectionString=Server=…`): the string starts after the first `=`
        // of a segment that holds two.
        let first_seg_end = (start..secret.start)
            .find(|&i| data[i] == b';')
            .unwrap_or(secret.start);
        let eqs: Vec<usize> = (start..first_seg_end)
            .filter(|&i| data[i] == b'=')
            .collect();
        if eqs.len() >= 2 {
            start = eqs[0] + 1;
        }
    }
    while start < secret.start && matches!(data[start], b' ' | b'\t') {
        start += 1;
    }
    let mut end = secret.end;
    while end < le && !matches!(data[end], b'"' | b'\'' | b'\r' | b'\n') {
        end += 1;
    }
    let whole = Span::new(start, end);
    let pairs = params(data, whole, b';');
    let key_is = |p: &Param, names: &[&str]| names.iter().any(|n| p.key.eq_ignore_ascii_case(n));
    let trimmed = |s: Span| {
        let mut a = s.start;
        let mut b = s.end;
        while a < b && data[a] == b' ' {
            a += 1;
        }
        while b > a && data[b - 1] == b' ' {
            b -= 1;
        }
        Span::new(a, b)
    };
    pairs
        .iter()
        .find(|p| trimmed(p.value) == secret && key_is(p, &["password", "pwd"]))?;
    let server = pairs.iter().find(|p| {
        key_is(
            p,
            &[
                "server",
                "data source",
                "address",
                "addr",
                "network address",
                "host",
            ],
        )
    })?;
    let server_value = trimmed(server.value);
    let raw = text(data, server_value);
    let npgsql = server.key.eq_ignore_ascii_case("host");
    let (host, port, ado_port) = if npgsql {
        let port_pair = pairs.iter().find(|p| key_is(p, &["port"]));
        (
            raw.clone(),
            port_pair.and_then(|p| text(data, trimmed(p.value)).parse().ok()),
            port_pair.map_or(AdoPort::Missing, |p| AdoPort::Separate(trimmed(p.value))),
        )
    } else {
        let no_proto = raw.strip_prefix("tcp:").unwrap_or(&raw);
        let no_instance = no_proto.split('\\').next().unwrap_or(no_proto);
        let (h, p) = match no_instance.split_once(',') {
            Some((h, p)) => (h.to_string(), p.trim().parse().ok()),
            None => (no_instance.to_string(), None),
        };
        (h, p, AdoPort::InServer)
    };
    let user = pairs
        .iter()
        .find(|p| key_is(p, &["user id", "uid", "user", "username", "user name"]));
    let db = pairs
        .iter()
        .find(|p| key_is(p, &["initial catalog", "database"]))
        .map(|p| text(data, trimmed(p.value)))
        .filter(|d| is_db_name(d));
    Some(ConnString {
        span: whole,
        form: Form::Ado,
        protocol: if npgsql {
            DbProtocol::Postgres
        } else {
            DbProtocol::Mssql
        },
        user: user.map(|p| text(data, trimmed(p.value))),
        host,
        port,
        db,
        sslmode: None,
        sslmode_note: None,
        percent_encoded: false,
        user_span: user.map(|p| trimmed(p.value)),
        password: secret,
        hosts: server_value,
        ado_port,
        drop_params: Vec::new(),
        scheme_fix: None,
        mongo_query: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(line: &str, pw: &str) -> (ConnString, String) {
        let off = line.find(pw).unwrap();
        let c = parse(line.as_bytes(), Span::new(off, off + pw.len())).expect("parses");
        let rewritten = c.credential_less(line.as_bytes(), c.protocol.tunnel_port());
        (c, rewritten)
    }

    /// Found by fuzzing (migrate_rewriters): in a list of URLs without spaces, the first
    /// URL's database name ran on into the second and carried its password into the plan.
    #[test]
    fn a_url_list_does_not_read_as_one_url() {
        let lists = [
            (
                "U=postgres://a:Pw1xQ@h1:5432/db1,postgres://b:Pw2yR@h2:5432/db2",
                "Pw1xQ",
                "Pw2yR",
            ),
            (
                "U=jdbc:oracle:thin:scott/Pw1xQ@h1:1521/S1;jdbc:oracle:thin:scott/Pw2yR@h2:1521/S2",
                "Pw1xQ",
                "Pw2yR",
            ),
            (
                "U=mysql://a:Pw1xQ@h1/db?x=1&jdbc:mysql://b:Pw2yR@h2/db",
                "Pw1xQ",
                "Pw2yR",
            ),
        ];
        for (line, first, second) in lists {
            let (c, rewritten) = conn(line, first);
            for field in [
                &c.host,
                c.db.as_ref().unwrap_or(&String::new()),
                c.user.as_ref().unwrap_or(&String::new()),
            ] {
                assert!(!field.contains(second), "{line}: {field}");
            }
            assert!(!rewritten.contains(second), "{line}: {rewritten}");
            let (c2, _) = conn(line, second);
            assert!(c2.db.is_some(), "{line}");
        }
    }

    /// Found by fuzzing (migrate_rewriters): text after `@` that is not a host list (here
    /// an ADO string glued on, with its own password) was taken for a host name.
    #[test]
    fn a_host_must_look_like_one() {
        let line = "url: postgres://rails:Pw1xQ@pg-=app;Password=Pw2yR;Encrypt=True;";
        let off = line.find("Pw1xQ").unwrap();
        assert!(parse(line.as_bytes(), Span::new(off, off + 5)).is_none());
        let (c, _) = conn(
            "u=postgres://a:Pw1xQ@[fe80::1%25eth0]:5433,h2.example_x:1/db",
            "Pw1xQ",
        );
        assert_eq!((c.host.as_str(), c.port), ("fe80::1%25eth0", Some(5433)));
    }

    /// Found by fuzzing (migrate_rewriters): a path that runs on into `KEY=value` text
    /// was taken for the database name, value and all.
    #[test]
    fn a_database_name_must_look_like_one() {
        let (c, _) = conn(
            "U=mysql://shop:Pw1xQ@db.internal/shop:x@h_SECRET=Pw2yR",
            "Pw1xQ",
        );
        assert_eq!(c.db, None);
        let (c, _) = conn("U=mysql://shop:Pw1xQ@db.internal/shop_v2", "Pw1xQ");
        assert_eq!(c.db.as_deref(), Some("shop_v2"));
    }

    /// Audit B9: `verify-ca` was dropped, so hoop fell back to `prefer` (a TLS downgrade).
    #[test]
    fn sslmode_verify_ca_is_not_downgraded() {
        let (c, r) = conn(
            "PG1=postgres://app:Tr5Yh8Kq@pg1.prod.internal:5432/app?sslmode=verify-ca",
            "Tr5Yh8Kq",
        );
        assert_eq!(c.sslmode.as_deref(), Some("verify-full"));
        assert!(c.sslmode_note.as_deref().unwrap().contains("verify-ca"));
        assert_eq!(r, "postgres://noop:noop@127.0.0.1:5433/app");
        let (c, _) = conn(
            "PG1=postgres://app:Tr5Yh8Kq@pg1.prod.internal/app?sslmode=bogus",
            "Tr5Yh8Kq",
        );
        assert_eq!(c.sslmode, None);
        assert!(c.sslmode_note.as_deref().unwrap().contains("by hand"));
        let (c, _) = conn(
            "PG1=postgres://app:Tr5Yh8Kq@pg1.prod.internal/app?sslmode=require",
            "Tr5Yh8Kq",
        );
        assert_eq!(
            (c.sslmode.as_deref(), c.sslmode_note),
            (Some("require"), None)
        );
    }

    /// Audit B10: a SQL Server URI names its database in the query; it was lost.
    #[test]
    fn mssql_uri_database_parameter_is_the_db() {
        let (c, r) = conn(
            "MSSQL=sqlserver://sa:Pq3Wx8Rt@mssql.prod.internal:1433?database=erp",
            "Pq3Wx8Rt",
        );
        assert_eq!(c.protocol, DbProtocol::Mssql);
        assert_eq!(c.db.as_deref(), Some("erp"));
        assert_eq!(r, "sqlserver://noop:noop@127.0.0.1:1444?database=erp");
    }

    #[test]
    fn postgres_uri_loses_credentials_and_tls_only() {
        let (c, r) = conn(
            "DATABASE_URL=postgres://orders_app:Xy7pQ2@orders-db.prod.internal:5432/orders?sslmode=require&application_name=api",
            "Xy7pQ2",
        );
        assert_eq!(c.protocol, DbProtocol::Postgres);
        assert_eq!(
            (
                c.user.as_deref(),
                c.host.as_str(),
                c.port,
                c.db.as_deref(),
                c.sslmode.as_deref()
            ),
            (
                Some("orders_app"),
                "orders-db.prod.internal",
                Some(5432),
                Some("orders"),
                Some("require")
            )
        );
        assert_eq!(
            r,
            "postgres://noop:noop@127.0.0.1:5433/orders?application_name=api"
        );
        let (_, r) = conn(
            "u = 'postgresql+psycopg2://rep:Pw9x@10.0.3.7/analytics?sslmode=require'",
            "Pw9x",
        );
        assert_eq!(
            r,
            "postgresql+psycopg2://noop:noop@127.0.0.1:5433/analytics"
        );
    }

    #[test]
    fn mongodb_srv_becomes_a_direct_local_connection() {
        let (c, r) = conn(
            "MONGODB_URI=mongodb+srv://api:Sec4et@cluster0.a1b2c.mongodb.net/app?retryWrites=true&w=majority",
            "Sec4et",
        );
        assert_eq!(c.host, "cluster0.a1b2c.mongodb.net");
        assert_eq!(
            r,
            "mongodb://noop:noop@127.0.0.1:27018/app?directConnection=true"
        );
        let (c, r) = conn(
            "mongodb://admin:Pa55@mongo-0.mongo:27017,mongo-1.mongo:27017",
            "Pa55",
        );
        assert_eq!((c.host.as_str(), c.port), ("mongo-0.mongo", Some(27017)));
        assert_eq!(
            r,
            "mongodb://noop:noop@127.0.0.1:27018/?directConnection=true"
        );
    }

    #[test]
    fn jdbc_forms() {
        let (c, r) = conn(
            "url=jdbc:postgresql://pg.prod.internal:5432/orders?user=orders&password=Q1w2e3&ssl=true",
            "Q1w2e3",
        );
        assert_eq!(
            (c.user.as_deref(), c.db.as_deref()),
            (Some("orders"), Some("orders"))
        );
        assert_eq!(
            r,
            "jdbc:postgresql://127.0.0.1:5433/orders?user=noop&password=noop"
        );
        let (c, r) = conn(
            "spring.datasource.url=jdbc:sqlserver://sql.prod.internal:1433;databaseName=orders;user=app;password=Zz9Yy8;encrypt=true",
            "Zz9Yy8",
        );
        assert_eq!(
            (c.host.as_str(), c.port, c.db.as_deref()),
            ("sql.prod.internal", Some(1433), Some("orders"))
        );
        assert_eq!(r, "jdbc:sqlserver://127.0.0.1:1444;databaseName=orders;user=noop;password=noop;encrypt=true");
        let (c, r) = conn(
            "db.url=jdbc:oracle:thin:scott/T1ger9@ora.prod.internal:1521/ORCLPDB1",
            "T1ger9",
        );
        assert_eq!(
            (c.user.as_deref(), c.db.as_deref()),
            (Some("scott"), Some("ORCLPDB1"))
        );
        assert_eq!(r, "jdbc:oracle:thin:noop/noop@127.0.0.1:15211/ORCLPDB1");
        let (_, r) = conn(
            "jdbc:mysql://billing:Bq8Wn2@db.internal:3306/billing",
            "Bq8Wn2",
        );
        assert_eq!(r, "jdbc:mysql://noop:noop@127.0.0.1:3307/billing");
    }

    #[test]
    fn ado_strings() {
        let (c, r) = conn(
            "\"DefaultConnection\": \"Server=tcp:acme.database.windows.net,1433;Initial Catalog=orders;User ID=app;Password=Lk8Jh7;Encrypt=True;\"",
            "Lk8Jh7",
        );
        assert_eq!(
            (c.host.as_str(), c.port, c.db.as_deref(), c.user.as_deref()),
            (
                "acme.database.windows.net",
                Some(1433),
                Some("orders"),
                Some("app")
            )
        );
        assert_eq!(
            r,
            "Server=127.0.0.1,1444;Initial Catalog=orders;User ID=noop;Password=noop;Encrypt=True;"
        );
        let (c, r) = conn(
            "ConnectionString=Host=pg.internal;Database=app;Username=svc;Password=Mn3Bv4",
            "Mn3Bv4",
        );
        assert_eq!(c.protocol, DbProtocol::Postgres);
        assert_eq!(
            r,
            "Host=127.0.0.1;Port=5433;Database=app;Username=noop;Password=noop"
        );
    }

    #[test]
    fn not_a_connection_string() {
        let line = "DB_PASSWORD=Xy7pQ2Xy7pQ2";
        assert!(parse(line.as_bytes(), Span::new(12, 24)).is_none());
        let (c, _) = conn("REDIS_URL=redis://:R3d1s@localhost:6379/0", "R3d1s");
        assert!(c.is_loopback());
        assert_eq!(c.protocol.hoop_type(), None);
    }
}
