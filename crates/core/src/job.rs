//! A background job's life: `pending` until a worker claims it (`running`, under a lease), then
//! `done`, or back to `pending` for another attempt, or `failed` once its attempts are spent.

labelled_enum! {
    /// Where a background job stands.
    JobStatus {
        Pending = "pending", "待执行", "pending";
        Running = "running", "执行中", "running";
        Done = "done", "已完成", "done";
        Failed = "failed", "已失败", "failed";
    }
}
