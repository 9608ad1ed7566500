// The filters are a leaf module in common (the proxy checks SQL92 expressions too); this keeps the broker's import path.
export * from '../../common/filter/index.js';
