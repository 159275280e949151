//! 802.11 and radiotap parsing (being written).
