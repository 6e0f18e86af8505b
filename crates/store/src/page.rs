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
    pub fn offset(&self) -> u64 {
        (self.page.max(1) - 1) * self.page_size
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
