export { authBasic, plankMiddleware, type AuthBasicOptions, type Authenticator } from './auth-basic.js';
