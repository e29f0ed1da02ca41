#!/usr/bin/env node
console.log('vantage: skeleton');
