"""Every tunable of the engine, with its default and why.

Change values here (or pass overrides to the functions that take them); nothing else in the
engine hard-codes a threshold, window or size.
"""

from __future__ import annotations

# --- ingest ---------------------------------------------------------------------------------
# Bytes read from a file per transaction. Bigger chunks parse faster in DuckDB; each chunk is
# committed with the byte offset reached, so a killed ingest resumes at a chunk boundary.
INGEST_CHUNK_BYTES = 32 << 20
# A line longer than this (in characters) is rejected, keeping its first 4096: real log lines are
# short, and a multi-megabyte "line" is an attack on the tool or a binary blob.
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

# --- features ---------------------------------------------------------------------------------
# Paths that legitimate visitors of most sites never request; scanners and exploit kits do.
SENSITIVE_PATH_RE = (
    r"(?i)(/\.env|/\.git/|/\.svn/|/\.aws|/\.ssh|wp-login\.php|xmlrpc\.php|/wp-admin|phpmyadmin|/pma/|"
    r"/etc/passwd|/proc/self|/cgi-bin/|/actuator|/server-status|/\.ds_store|/config\.(php|json|yml)|"
    r"/backup|\.bak$|\.sql$|/admin(/|$)|/manager/html|/boaform|/vendor/phpunit|/solr/|/console|/shell)"
)
# Injection and traversal markers in a request path (raw or percent-encoded).
INJECTION_RE = (
    r"(?i)(union(\s|\+|%20)+select|'(\s|\+|%20)*or(\s|\+|%20)+|%27(\s|\+|%20)*or|\bor(\s|\+|%20)+1=1|"
    r"sleep\(|benchmark\(|information_schema|\.\./|\.\.%2f|%2e%2e|<script|%3cscript|\$\{jndi:|%24%7bjndi|"
    r";(\s|%20)*(wget|curl|cat|id|uname)|\|(\s|%20)*(wget|curl|sh)|/bin/sh|cmd\.exe|etc/passwd|"
    r"base64_decode|eval\(|%00|xp_cmdshell)"
)
# User agents of attack and scripting tools.
TOOL_UA_RE = (
    r"(?i)(sqlmap|nikto|nmap|masscan|zgrab|nuclei|dirbuster|gobuster|ffuf|wfuzz|hydra|acunetix|"
    r"nessus|openvas|wpscan|python-requests|python-urllib|go-http-client|curl/|wget/|libwww-perl|"
    r"scrapy|httpclient|java/|okhttp|zmeu|morfeus|censys|expanse|l9explore)"
)
CRAWLER_UA_RE = r"(?i)(googlebot|bingbot|yandex|baiduspider|duckduckbot|ahrefsbot|semrushbot|applebot|slurp|petalbot|mj12bot|crawler|spider|bot\b)"
# Zeek/Suricata states of a connection that never got an answer (scans hit closed ports).
FAILED_CONN_STATES = ("S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR", "OTH")
# Hours of the day whose share of the case's successful logins is below this are "off hours".
OFF_HOURS_MAX_SHARE = 0.02
# A (source, destination, port) pair needs this many connections before its rhythm means anything.
BEACON_MIN_CONNECTIONS = 12

# --- detection rules (engine/rules.py) --------------------------------------------------------
# Failed attempts before a success that make it a likely compromise, not a typo (an admin's one
# mistyped password before a key login is not an incident).
COMPROMISE_MIN_FAILURES = 3
# ...or this many different accounts tried from the source before one worked.
COMPROMISE_MIN_USERS = 3
# Spraying: at least this many accounts, at most this many attempts per account on average.
SPRAY_MIN_USERS = 10
SPRAY_MAX_PER_USER = 3
# Stuffing: a real account (not root, not invalid) failed from at least this many sources.
STUFFING_MIN_SOURCES = 8
# Brute force: failed attempts from one source in one window.
BRUTE_MIN_ATTEMPTS = 20
BRUTE_HIGH_ATTEMPTS = 60
# The internet's background: a source with at most this many failures and no success.
BACKGROUND_MAX_ATTEMPTS = 5
# SSH connections that never reach authentication (banner grabs, protocol probes).
SSH_SCAN_MIN_PREAUTH = 10
# Web: payload hits, sensitive-path probes, distinct paths for wordlist scanning, tool requests.
WEB_INJECTION_MIN = 3
WEB_SENSITIVE_MIN = 5
WEB_SCAN_MIN_PATHS = 40
WEB_TOOL_MIN_REQUESTS = 20
# Web flood: this many requests at this many per minute from one client.
WEB_DOS_MIN_REQUESTS = 5000
WEB_DOS_MIN_RATE = 600
# Port scan / sweep: distinct ports or hosts, mostly unanswered.
PORTSCAN_MIN_PORTS = 30
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

# --- incidents (engine/incidents.py) ----------------------------------------------------------
HDBSCAN_MIN_CLUSTER_SIZE = 2
# Above this many flagged sessions in one category, cluster on features only (memory is n^2).
MAX_PAIRWISE_SESSIONS = 4000
# Weight of behaviour (scaled features) against campaign ties (same source, /24, accounts, time).
FEATURE_DISTANCE_WEIGHT = 0.3
