// Bundled by esbuild into sentry.js (an IIFE) for the test page: exposes the SDK as window.Sentry.
import * as Sentry from '@sentry/browser';

window.Sentry = Sentry;
