//! Hash maps on the hot paths (account numbers in a million-row import or rescore, sanctions
//! blocking keys). Keys come from our own database and operator files, so SipHash's flooding
//! resistance buys nothing here; foldhash's fixed-seed hasher is several times faster and
//! deterministic from run to run.

pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
