//! Who acts, when, and the transfer ids a transaction hands out.

/// Who acts and under which trace: recorded on every audit event and transfer.
#[derive(Debug, Clone)]
pub struct Actor {
    pub operator: String,
    pub trace_id: String,
    pub now_us: i64,
}

/// Transfer ids of a transaction, handed out one by one (see `WriteTx::transfer_ids`).
#[derive(Debug)]
pub struct TransferIds {
    last: i64,
}

impl TransferIds {
    /// Ids after `last`, the highest id already taken.
    pub fn after(last: i64) -> TransferIds {
        TransferIds { last }
    }

    /// The highest id handed out so far.
    pub fn last(&self) -> i64 {
        self.last
    }

    pub fn allocate(&mut self) -> i64 {
        self.last += 1;
        self.last
    }
}
