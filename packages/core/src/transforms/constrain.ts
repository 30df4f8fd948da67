// placeholder: being written; replaced by its owner.
export {};
