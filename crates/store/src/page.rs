//! Server-side pagination.

use serde::Serialize;

pub const MAX_PAGE_SIZE: u64 = 200;

#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

impl Default for PageReq {
    fn default() -> Self {
        Self { page: 1, page_size: 20 }
    }
}

impl PageReq {
    /// The rows before this page. It cannot overflow, and stays within the 64-bit signed
    /// `OFFSET` both databases take, whatever the page (the API refuses absurd pages before this).
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.page_size).min(i64::MAX as u64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
        }
    }
}
