export * from './common.js';
export * from './hypervisor.js';
export * from './virtual-machine.js';
export * from './iso-attachment.js';
export * from './boot-profile.js';
export * from './node-boot-assignment.js';
export * from './diskless-session.js';
export * from './kinds.js';
