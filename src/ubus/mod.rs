//! ubus client (being written).
