"""Every tunable of the engine, with its default and why.

Change values here (or pass overrides to the functions that take them); nothing else in the
engine hard-codes a threshold, window or size.
"""

from __future__ import annotations

# --- ingest ---------------------------------------------------------------------------------
# Bytes read from a file per transaction. Bigger chunks parse faster in DuckDB; each chunk is
# committed with the byte offset reached, so a killed ingest resumes at a chunk boundary.
INGEST_CHUNK_BYTES = 64 << 20
# Files of one ingest read at once (a rotated set, a folder): each on its own DuckDB connection.
INGEST_FILES_AT_ONCE = 2
# A line longer than this (in bytes) is rejected, keeping its first 4096 characters: real log
# lines are short, and a multi-megabyte "line" is an attack on the tool or a binary blob.
MAX_LINE_CHARS = 1 << 20
# How much of a file's start identifies it across renames and rotation (logrotate, .gz).
FINGERPRINT_BYTES = 4096
# How much of a file's start format detection and header-driven formats look at.
HEAD_BYTES = 64 << 10
# Lines used to detect the format.
DETECT_LINES = 40
# A file whose first bytes hold more than this share of control/NUL bytes is binary, not a log.
BINARY_CONTROL_SHARE = 0.05
# Ingests expected to take longer than this many bytes show a progress bar on a terminal.
PROGRESS_MIN_BYTES = 8 << 20

# --- sessions ---------------------------------------------------------------------------------
# A source's SSH activity with no event for this long starts a new window. Two hours keeps a slow
# brute force (one try every few minutes) in one window while separating separate days.
SSH_SOURCE_GAP_S = 2 * 3600
# An account's activity across sources: the same gap, so a distributed campaign stays together.
SSH_USER_GAP_S = 6 * 3600
# An sshd pid is reused by the OS; events of one pid this far apart are different connections.
SSH_CONN_GAP_S = 3600
# Web sessions: (ip, user agent) with the usual 30-minute inactivity gap of web analytics.
WEB_GAP_S = 30 * 60
# Network flows / IDS alerts of one source: one window per hour of silence.
FLOW_GAP_S = 3600
# Web logins of one source: as for SSH, two hours keep a slow brute force (a try every few
# minutes) in one window, whatever user agents it rotates through.
WEB_LOGIN_GAP_S = 2 * 3600

# --- features ---------------------------------------------------------------------------------
# Paths that legitimate visitors of most sites never request; scanners and exploit kits do.
SENSITIVE_PATH_RE = (
    r"(?i)(/\.env|/\.git/|/\.svn/|/\.aws|/\.ssh|wp-login\.php|xmlrpc\.php|/wp-admin|phpmyadmin|/pma/|"
    r"/etc/passwd|/proc/self|/cgi-bin/|/actuator|/server-status|/\.ds_store|/config\.(php|json|yml)|"
    r"/backup|\.bak$|\.sql$|/admin(/|$)|/manager/html|/boaform|/vendor/phpunit|/solr/|/console|/shell)"
)
# Injection and traversal markers, matched on the percent-decoded request path (twice decoded,
# for the double-encoding trick). Boolean-blind ("AND 1257=1258"), UNION, time-based, ORDER BY
# probing, traversal, XSS, JNDI and shell injection.
INJECTION_RE = (
    r"(?i)(union(\s+all)?\s+select|\b(and|or)\s+['\"]?[\w-]+['\"]?\s*(=|<|>|like)\s*['\"]?[\w-]+|"
    r"order\s+by\s+\d+\s*(--|#)|sleep\s*\(|benchmark\s*\(|waitfor\s+delay|pg_sleep|information_schema|"
    r"['\"]\s*(--|#|;)|\.\./|\.\.\\\\|<script|javascript:|onerror\s*=|\$\{jndi:|"
    r";\s*(wget|curl|cat|id|uname|bash|sh)\b|\|\s*(wget|curl|sh|bash)\b|`[^`]*`|/bin/(ba)?sh|cmd\.exe|"
    r"etc/passwd|base64_decode|eval\(|xp_cmdshell|%00)"
)
# User agents of attack and scripting tools.
TOOL_UA_RE = (
    r"(?i)(sqlmap|nikto|nmap|masscan|zgrab|nuclei|dirbuster|gobuster|ffuf|wfuzz|hydra|acunetix|"
    r"nessus|openvas|wpscan|python-requests|python-urllib|go-http-client|curl/|wget/|libwww-perl|"
    r"scrapy|httpclient|java/|okhttp|zmeu|morfeus|censys|expanse|l9explore)"
)
CRAWLER_UA_RE = r"(?i)(googlebot|bingbot|yandex|baiduspider|duckduckbot|ahrefsbot|semrushbot|applebot|slurp|petalbot|mj12bot|crawler|spider|bot\b)"
# Login-like endpoints (matched, case-insensitively, at the end of the path without its query):
# a POST to one of these is a credential submission. Data, not code: add a site's own here.
LOGIN_PATHS = (
    r"/log-?in(\.php|\.html?|\.aspx?|\.jsp|\.do|\.action)?", r"/sign-?in", r"/signon", r"/log-?on",
    r"/wp-login\.php", r"/xmlrpc\.php", r"/user/login", r"/users/sign_in", r"/account/login",
    r"/sessions?", r"/auth(enticate)?", r"/api/(.*/)?auth[a-z_-]*(/[a-z_-]+)?", r"/oauth2?/token", r"/connect/token",
    r"/protocol/openid-connect/token", r"/j_security_check", r"/administrator(/index\.php)?",
    r"/admin/login(\.php)?", r"/owa/auth\.owa", r"/remote/logincheck", r"/cgi-bin/luci",
)
LOGIN_PATH_RE = "(?i)(" + "|".join(LOGIN_PATHS) + ")/?$"
# Answers that mean "wrong credentials" to any login request (basic auth on any path included).
LOGIN_FAILURE_STATUSES = (401, 403)
# Redirects that answer a successful form login (the failure re-renders the form instead).
LOGIN_REDIRECT_STATUSES = (301, 302, 303)
# A source sending the same (status, size) answer again and again this many times, this fast
# (per minute), on one login endpoint is being told "wrong password" by a form that says so with a
# 200; a mobile app refreshing its token every few minutes is far slower.
WEB_LOGIN_REPEAT_MIN = 10
WEB_LOGIN_REPEAT_MIN_RATE = 1.0
WEB_LOGIN_REPEAT_MIN_SHARE = 0.8
# Zeek conn states of a connection that got no more than a SYN (no answer, or a reset): the mark
# of a SYN flood when most of a flood's connections are such.
SYN_ONLY_STATES = ("S0", "REJ")
# Zeek/Suricata states of a connection that never got an answer (scans hit closed ports).
FAILED_CONN_STATES = ("S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR", "OTH")
# Hours of the day whose share of the case's successful logins is below this are "off hours".
OFF_HOURS_MAX_SHARE = 0.02
# A (source, destination, port) pair needs this many connections before its rhythm means anything.
BEACON_MIN_CONNECTIONS = 12

# --- detection rules (engine/rules.py) --------------------------------------------------------
# Failed attempts before a success that make it a likely compromise, not a typo (an admin's one
# mistyped password before a key login is not an incident, nor a user's three: sshd itself
# allows three password prompts per connection).
COMPROMISE_MIN_FAILURES = 4
# ...or this many different accounts tried from the source before one worked.
COMPROMISE_MIN_USERS = 3
# Spraying: at least this many accounts, at most this many attempts per account on average.
SPRAY_MIN_USERS = 10
SPRAY_MAX_PER_USER = 3
# Stuffing: in one CAMPAIGN_BUCKET_S bucket an account fails from at least this many sources,
# and at least CAMPAIGN_SURGE times its mean per bucket over the case (root is always attacked).
STUFFING_MIN_SOURCES = 8
CAMPAIGN_BUCKET_S = 6 * 3600
CAMPAIGN_SURGE = 3.0
# Brute force: failed attempts from one source in one window.
BRUTE_MIN_ATTEMPTS = 20
BRUTE_HIGH_ATTEMPTS = 60
# The internet's background: a source with at most this many failures and no success.
BACKGROUND_MAX_ATTEMPTS = 5
# An audit/btmp/wtmp record and the sshd line of the same login are one fact when their times are
# this close (auditd and sshd stamp the same PAM call; wtmp is written right after the session opens).
HOST_RECORD_DEDUP_S = 5
# SSH connections that never reach authentication (banner grabs, protocol probes).
SSH_SCAN_MIN_PREAUTH = 10
# Web: payload hits, sensitive-path probes, distinct paths for wordlist scanning, tool requests.
WEB_INJECTION_MIN = 3
WEB_INJECTION_MIN_SHARE = 0.1
WEB_SENSITIVE_MIN = 5
WEB_SCAN_MIN_PATHS = 40
WEB_TOOL_MIN_REQUESTS = 20
# Web flood: this many requests at this many per minute from one client.
WEB_DOS_MIN_REQUESTS = 5000
WEB_DOS_MIN_RATE = 600
# Web logins: failures from one source (a run of them, mostly failures) that make a brute force,
# and a heavy one; a form makes retrying cheap, so a run of failures right before a success must
# be longer than over SSH to mean a guessed password rather than a forgetful customer.
WEB_BRUTE_MIN_FAILURES = 20
WEB_BRUTE_HIGH_FAILURES = 60
WEB_BRUTE_MIN_FAIL_SHARE = 0.8
WEB_COMPROMISE_MIN_FAILURES = 10
# Distributed web login attacks: in a WEB_CAMPAIGN_BUCKET_S bucket, at least this many sources fail
# on one login endpoint, at least CAMPAIGN_SURGE times its mean per bucket, and most of the
# endpoint's answers then are failures (a sale's crowd of customers mostly gets in). A campaign
# whose sources try at most WEB_SPRAY_MAX_PER_SOURCE times each is spraying (a password or two
# per source), more is stuffing (each bot works through leaked pairs).
WEB_CAMPAIGN_MIN_SOURCES = 10
WEB_CAMPAIGN_BUCKET_S = 3600
WEB_CAMPAIGN_MIN_FAIL_SHARE = 0.5
WEB_SPRAY_MAX_PER_SOURCE = 2.5
# A campaign source with this many failures right before a success got in (as over SSH, a
# customer's three typos during someone else's campaign are not a compromise).
WEB_CAMPAIGN_COMPROMISE_MIN_FAILURES = 4
# Floods in flows: a minute in which one destination (address and port) gets at least this many
# connections, and at least FLOOD_SURGE times its mean per minute over the case; a single source
# making that many of them alone is a flood, and with at least FLOOD_MIN_SOURCES sources each
# making FLOOD_MIN_CONNS_PER_SOURCE, a distributed one. Keyed by port: a port scan spreads over
# ports and a sweep over hosts, so neither surges on one.
FLOOD_MIN_PER_MIN = 300
FLOOD_SURGE = 10.0
FLOOD_MIN_SOURCES = 10
FLOOD_MIN_CONNS_PER_SOURCE = 20
# A flood's first and last minutes are partial (below the surge): connections this many minutes
# either side of a surge minute still count as the flood's, so a bot that started early is in it.
FLOOD_EDGE_MINUTES = 1
# Port scan / sweep: distinct ports or hosts, mostly unanswered.
PORTSCAN_MIN_PORTS = 30
# IDS alerts of no known class from one source before they are an incident by themselves
# (severity-1 alerts always are); a lone reputation-list hit is not.
IDS_MIN_ALERTS = 5
# Scan alerts from one source before the scan is worth its own (medium) incident; fewer are
# folded with the other low-severity scanners.
IDS_SCAN_MIN_ALERTS = 3
# Upload volume from one source worth a look.
EXFIL_MIN_MBYTES = 500
# Beaconing: steady rhythm (coefficient of variation of the gaps) over at least this long, with
# gaps of at least this many seconds (faster is streaming, not a beacon), to an outside address.
BEACON_MAX_CV = 0.2
BEACON_MIN_SPAN_H = 1.0
BEACON_MIN_INTERVAL_S = 10

# --- anomaly model (engine/scoring.py) --------------------------------------------------------
ISOLATION_TREES = 100
ISOLATION_MAX_SAMPLES = 256
RANDOM_SEED = 7
# A kind needs this many sessions before its forest means anything.
MIN_SESSIONS_FOR_MODEL = 20
# IsolationForest score (0.5 ordinary, near 1 isolated) at which a session with no rule hit
# still becomes an (anomaly) incident, and the least number of events it needs for that.
ANOMALY_ONLY_MIN_SCORE = 0.72
ANOMALY_ONLY_MIN_EVENTS = 20
# How much the anomaly score adds to a rule's base risk (0-100 scale).
ANOMALY_RISK_WEIGHT = 10

# --- explanations (engine/explain.py) ---------------------------------------------------------
# SHAP costs about a millisecond a row: explain only the sessions that matter.
SHAP_MAX_SESSIONS = 300
TOP_FEATURES = 5

# --- timelines (store.queries.incident_timeline: the TUI's sparkline and the PDF's chart) -------
# Slices of an incident's span: the same in the TUI and the PDF, so a peak reads the same in
# both; 48 bars fit the PDF's page width and the detail pane of a 100-column terminal.
TIMELINE_BUCKETS = 48

# --- incidents (engine/incidents.py) ----------------------------------------------------------
HDBSCAN_MIN_CLUSTER_SIZE = 2
# Above this many flagged sessions in one category, cluster on features only (memory is n^2).
MAX_PAIRWISE_SESSIONS = 4000
# Weight of behaviour (scaled features) against campaign ties (same source, /24, accounts, time).
FEATURE_DISTANCE_WEIGHT = 0.3

# --- campaigns (engine/campaigns.py) ----------------------------------------------------------
# This many sources of one category and session kind behaving alike are a campaign, one incident:
# an analyst cannot read hundreds of incidents that say the same thing, and fewer are read anyway.
CAMPAIGN_MIN_SOURCES = 50
# An account or host belongs to the crowd's shared pool when this share of its sessions name it;
# a session is alike when one of its accounts (and of its hosts) is in the pool.
CAMPAIGN_POOL_SHARE = 0.01
# A session stands out of its crowd when a feature is above this factor times the crowd's
# percentile below (and one unit above it): the crowd's own tail is not a reason.
CAMPAIGN_OUTLIER_FACTOR = 3.0
CAMPAIGN_OUTLIER_PERCENTILE = 99.0
# ...and has at least this many events: a short session's rates swing widely by chance.
CAMPAIGN_OUTLIER_MIN_EVENTS = 20
# An account that at most this many sources log in to, in the whole case, is nobody else's: a
# crowd member that logged in to it stands out and keeps its own incident.
CAMPAIGN_RARE_ACCOUNT_SOURCES = 1
# Behaviour groups within a crowd: profiles (log-scaled features) rounded to this step and
# deduplicated, at most this many of the commonest given to HDBSCAN (its cost is superlinear),
# this many profiles for an HDBSCAN cluster, and at most this many groups kept per crowd.
CAMPAIGN_PROFILE_STEP = 0.5
CAMPAIGN_MAX_PROFILES = 2000
CAMPAIGN_HDBSCAN_MIN_PROFILES = 10
CAMPAIGN_MAX_SPLITS = 4
# ...and a group is kept apart only if its typical session differs from each larger group's by
# this factor in some feature (features are log-scaled: 4 tries against 5 is the same crowd).
CAMPAIGN_SPLIT_MIN_FACTOR = 3.0

# --- summaries (engine/summaries/) and the LLM client (engine/llm.py) -----------------------
# The model's time goes where an analyst reads first: incidents at or above this severity are
# summarised by the model (when one is configured), the rest by the offline summariser.
LLM_MIN_SEVERITY = "medium"
# Seconds to open a connection; a local server that is down refuses at once, a remote one may not.
LLM_CONNECT_TIMEOUT_S = 5.0
# Seconds to wait for each read of the answer: a local model on a CPU can think a while before
# its first token.
LLM_READ_TIMEOUT_S = 60.0
# Retries after the first try on 429, 5xx and connection errors, with exponential backoff from
# this base up to this cap, with jitter so parallel requests do not retry in lockstep. Small
# numbers: with the server gone the analysis must still finish promptly.
LLM_RETRIES = 2
LLM_BACKOFF_S = 0.5
LLM_BACKOFF_MAX_S = 8.0
# A 429's Retry-After is honoured up to this many seconds; longer, we give up on that request.
LLM_RETRY_AFTER_MAX_S = 30.0
# Requests in flight at once: a local model serves one or a few at a time, hosted APIs rate-limit.
LLM_CONCURRENCY = 4
# Seconds the model may add to one analysis in all; incidents not summarised by then go offline.
LLM_BUDGET_S = 120.0
# Answer length asked for, and sampling temperature (low: facts, not prose flourishes).
LLM_MAX_TOKENS = 700
LLM_TEMPERATURE = 0.2
# An answer larger than this is a runaway model or a hostile server: cut off, not read.
LLM_MAX_ANSWER_BYTES = 256 << 10
# The prompt: this many representative raw lines, each cut to this many characters; entity
# lists (sources, accounts, hosts) cut to this many names.
SUMMARY_RAW_LINES = 8
SUMMARY_RAW_LINE_CHARS = 300
# Commands and fetched files of honeypot attackers put in the prompt: enough to read intent.
SUMMARY_MAX_COMMANDS = 20
SUMMARY_MAX_ENTITIES = 12
# What is kept of a model's answer: summary and other fields' length, and how many next steps.
SUMMARY_MAX_CHARS = 2000
SUMMARY_FIELD_MAX_CHARS = 600
SUMMARY_MAX_STEPS = 6

# --- enrichment (engine.enrich) ------------------------------------------------------------------
# geoip2fast ships several data files; this one holds countries and network names for IPv4 and
# IPv6 (the default file has countries only, and no IPv6).
GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"
# A folder of MaxMind .mmdb files to use instead (empty: the bundled data). `--geoip DIR`,
# $VEDETTE_GEOIP and `[enrich] geoip` in config.toml override it.
GEOIP_DIR = ""
# RFC 5737 / RFC 3849 / RFC 9637 documentation ranges: examples in docs, never real sources.
DOCUMENTATION_NETS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")

# --- containment plans (engine.respond) -------------------------------------------------------------
# How long a proposed block lasts where the firewall supports timeouts: long enough to stop a
# campaign, short enough that a mistaken block expires on its own.
RESPOND_BLOCK_TIMEOUT_S = 24 * 3600
# A whole /24 is proposed instead of its addresses only when the campaign used at least this
# many of its 254 host addresses (and none of them is excluded from blocking).
RESPOND_NET_MIN_SOURCES = 64
# The nftables table/set and ipset names the plan creates (so it can be reviewed and undone).
RESPOND_SET_NAME = "vedette_block"
# fail2ban jail for banning web attackers (the sshd jail's action covers the SSH port only).
RESPOND_FAIL2BAN_WEB_JAIL = "nginx-botsearch"
# The firewall the PDF report's Containment section writes commands for (nftables: one set for many
# sources); `vedette respond --firewall` gives the others.
RESPOND_REPORT_FIREWALL = "nft"
# --- live follow ------------------------------------------------------------------------------
# The watcher gathers changes for at most this many milliseconds before handing them over, and
# wakes at least this often when nothing happens (torn lines, re-globbing): lines reach the case
# within about a second, and an idle follow costs a wake-up a second.
FOLLOW_DEBOUNCE_MS = 250
FOLLOW_TICK_MS = 1000
# How often the watcher looks at the stop flag and for the end of a burst of changes: what an
# idle follow costs (each wake-up ~1 ms of CPU: 50 ms was 1-2% of a core idle, 250 ms ~0.7%).
FOLLOW_STEP_MS = 250
# An idle wake-up with nothing changed and no file still settling does nothing; the named paths
# are expanded afresh (globs, folders, missed events) only this often.
FOLLOW_RESCAN_S = 10.0
# A file written less than this many seconds ago may be mid-line: its last line without a newline
# waits (up to this long) for the rest of it.
FOLLOW_SETTLE_S = 2.0
# Re-analysis runs at most this often while events arrive (never two at once): incidents a few
# seconds behind the logs, without re-analysing on every line.
FOLLOW_ANALYSIS_INTERVAL_S = 3.0
# The models are fitted on the case as it was; fit them afresh this often while following (or
# when asked), since the case's idea of "ordinary" moves as it grows.
FOLLOW_REFIT_S = 900.0
# The events/s rate shown while following is taken over this many seconds.
FOLLOW_RATE_WINDOW_S = 5.0
# The TUI refreshes what shows events (overview, a tailing browser) at most this often while a
# follow brings lines in: fresh enough to watch, without re-querying the case on every batch.
FOLLOW_TUI_REFRESH_S = 2.0
# While the console's own ingest runs (``vedette PATH`` opens at once), what shows events (the
# overview, the events browser's count) refreshes at most this often as chunks commit: the
# case grows on screen without re-querying it per chunk.
INGEST_TUI_REFRESH_S = 1.0
# --- Parquet export and Spark (engine/export.py, engine/spark.py) -----------------------------
# Rows per Parquet row group: large enough for good compression and few footers, small enough
# that a reader skipping by min/max statistics (a day's hour, one source) reads little.
PARQUET_ROW_GROUP_ROWS = 1 << 20
# Where Spark runs when no --spark-master is given: this machine, all of its cores.
SPARK_MASTER = "local[*]"
# Shuffle partitions per Spark stage. Spark's 200 is tuned for clusters; on a few local cores each
# partition is a task's fixed overhead. Adaptive execution still merges small ones.
SPARK_SHUFFLE_PARTITIONS = 16
# Memory of the driver JVM (in local mode it is also the executor): the sessions' cached temp
# views spill to disk past it.
SPARK_DRIVER_MEMORY = "2g"
