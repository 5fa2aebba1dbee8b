"""The list's archive (public-inbox, what lore.kernel.org runs): the second source of
series, beside Patchwork."""
