//! Who acts, when, and the transfer ids a transaction hands out.

/// Who acts and under which trace: recorded on every audit event and transfer.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub(crate) operator: String,
    pub(crate) trace_id: String,
    pub(crate) now_us: i64,
}

/// Transfer ids of a transaction, handed out one by one (see `WriteTx::transfer_ids`).
#[derive(Debug)]
pub(crate) struct TransferIds {
    last: i64,
}

impl TransferIds {
    /// Ids after `last`, the highest id already taken.
    pub(crate) fn after(last: i64) -> TransferIds {
        TransferIds { last }
    }

    /// The highest id handed out so far.
    pub(crate) fn last(&self) -> i64 {
        self.last
    }

    pub(crate) fn allocate(&mut self) -> i64 {
        self.last += 1;
        self.last
    }
}
